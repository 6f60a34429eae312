"""Token authentication that also reads the user's roles, in the one query it makes anyway."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from rest_framework import authentication, exceptions

from articurated.db import select_related_rows


def _role_names_sql(token_table: str) -> str:
    """A correlated subquery: the comma-joined names of the token user's groups."""
    through = get_user_model().groups.through._meta.db_table
    group = Group._meta.db_table
    aggregate = (
        "string_agg(g.name, ',')" if connection.vendor == "postgresql" else "group_concat(g.name)"
    )
    # Table names from the models' own metadata; no user input reaches this text.
    return (
        f"SELECT {aggregate} FROM {group} g JOIN {through} ug ON ug.group_id = g.id "  # noqa: S608
        f"WHERE ug.user_id = {token_table}.user_id"
    )


class TokenAuthentication(authentication.TokenAuthentication):
    """`Authorization: Token <key>` as in DRF. The user comes with its role names attached
    (`_role_names`), so RoleBackend answers permission checks without querying (articurated/
    roles.py)."""

    def authenticate_credentials(self, key):
        token, role_names = self._token_read(key)
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        token.user._role_names = [name for name in (role_names or "").split(",") if name]
        return token.user, token

    def _token_read(self, key):
        """The token with its user (as select_related reads it) and the role names, or None:
        one statement of fixed text, on every API request."""
        model = self.get_model()
        key_column = connection.ops.quote_name(model._meta.pk.column)
        rows = select_related_rows(
            model,
            "user",
            where=f"m.{key_column} = %s",
            params=[key],
            extras=[f"({_role_names_sql('m')})"],
            connection=connection,
        )
        return rows[0] if rows else (None, None)
