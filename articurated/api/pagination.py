"""List pagination of API.md "Lists": a page costs the same whatever the size of the table.

- `count` is exact up to COUNT_LIMIT matching rows, then COUNT_LIMIT with `count_exact: false`:
  counting stops at COUNT_LIMIT + 1 rows (`SELECT COUNT(*) FROM (… LIMIT 10001)`), so it never
  scans a whole table.
- `next` / `previous` carry an opaque `cursor`: the position (the ordering's values of a row,
  with the primary key as the tie-break) and a direction. The page after it is read with
  `WHERE (ordering) > (position) … LIMIT size`, which an index on the ordering answers by
  reading only that page, wherever it is in the list.
- `page=N` is an OFFSET, whose cost grows with N, so it reaches only the first PAGE_ROW_LIMIT
  rows; beyond, 400 with a hint to follow `next`.
"""

import base64
import binascii
import json
from collections import OrderedDict

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from rest_framework import pagination, serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

COUNT_LIMIT = 10_000
PAGE_ROW_LIMIT = 10_000


def _invalid(name: str, message: str) -> serializers.ValidationError:
    return serializers.ValidationError({name: [message]})


def _positive_int(raw: str, name: str) -> int:
    if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
        raise _invalid(name, "A positive integer is required.")
    return int(raw)


class PageNumberPagination(pagination.BasePagination):
    """?page=N&page_size=M (default 20, 1..100) or ?cursor=…&page_size=M (the `next` and
    `previous` links). Used by every list of the API."""

    page_size = 20
    max_page_size = 100
    page_query_param = "page"
    page_size_query_param = "page_size"
    cursor_query_param = "cursor"

    # --- parameters ------------------------------------------------------------------------

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        size = _positive_int(raw, self.page_size_query_param)
        if size > self.max_page_size:
            # Refused rather than clamped (API.md): a client asking for 1000 must not believe
            # it got everything.
            raise _invalid(
                self.page_size_query_param, f"At most {self.max_page_size} results per page."
            )
        return size

    @staticmethod
    def _ordering(queryset) -> list[tuple[str, bool]]:
        """(field, descending) pairs of the queryset's ordering, ending with the primary key
        (in the direction of the first field) so that every row has a distinct position."""
        terms = list(queryset.query.order_by) or list(queryset.model._meta.ordering)
        pk = queryset.model._meta.pk.name
        ordering = []
        for term in terms:
            name = str(term)
            descending = name.startswith("-")
            name = name.lstrip("-")
            if name in ("pk", pk):
                break
            ordering.append((name, descending))
        ordering.append((pk, ordering[0][1] if ordering else False))
        return ordering

    # --- cursors ---------------------------------------------------------------------------

    def _cursor_encode(self, row, *, backwards: bool) -> str:
        values = [str(getattr(row, name)) for name, _ in self.ordering]
        raw = json.dumps({"o": self._ordering_key, "v": values, "b": backwards})
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def _cursor_decode(self, raw: str, model) -> tuple[list, bool]:
        error = _invalid(self.cursor_query_param, "Invalid cursor; use the `next` links as given.")
        try:
            data = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
            values, backwards = data["v"], bool(data["b"])
            if data["o"] != self._ordering_key or len(values) != len(self.ordering):
                raise error
            return [
                model._meta.get_field(name).to_python(value)
                for (name, _), value in zip(self.ordering, values, strict=True)
            ], backwards
        except (ValueError, KeyError, TypeError, binascii.Error, DjangoValidationError):
            raise error from None
        except FieldDoesNotExist:
            raise error from None

    def _beyond(self, values: list, *, backwards: bool) -> Q:
        """Rows strictly after (or before) the position, in the list's ordering. The first
        field's bound is repeated on its own so the database reads the index from there."""
        condition = Q()
        for index, (name, descending) in enumerate(self.ordering):
            later = "lt" if descending != backwards else "gt"
            term = Q(**{f"{name}__{later}": values[index]})
            for prior_name, _ in self.ordering[:index]:
                term &= Q(**{prior_name: values[self._index[prior_name]]})
            condition |= term
        first, descending = self.ordering[0]
        bound = "lte" if descending != backwards else "gte"
        return Q(**{f"{first}__{bound}": values[0]}) & condition

    # --- the page --------------------------------------------------------------------------

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        size = self.get_page_size(request)
        self.ordering = self._ordering(queryset)
        self._index = {name: i for i, (name, _) in enumerate(self.ordering)}
        self._ordering_key = [("-" if d else "") + n for n, d in self.ordering]
        ordered = queryset.order_by(*self._ordering_key)
        cursor = request.query_params.get(self.cursor_query_param)
        page = request.query_params.get(self.page_query_param)
        if cursor is not None and page is not None:
            raise _invalid(self.page_query_param, "Give `page` or `cursor`, not both.")

        self.count = queryset.order_by().values("pk")[: COUNT_LIMIT + 1].count()
        self.next_cursor = self.previous_cursor = None
        if cursor is not None:
            values, backwards = self._cursor_decode(cursor, queryset.model)
            if backwards:
                reverse = [t[1:] if t.startswith("-") else f"-{t}" for t in self._ordering_key]
                rows = list(
                    queryset.order_by(*reverse).filter(self._beyond(values, backwards=True))[
                        : size + 1
                    ]
                )
                more_before = len(rows) > size
                rows = rows[:size][::-1]
                if rows and more_before:
                    self.previous_cursor = self._cursor_encode(rows[0], backwards=True)
                if rows:
                    self.next_cursor = self._cursor_encode(rows[-1], backwards=False)
                return rows
            rows = list(ordered.filter(self._beyond(values, backwards=False))[: size + 1])
        else:
            number = 1 if page is None else _positive_int(page, self.page_query_param)
            offset = (number - 1) * size
            if offset >= PAGE_ROW_LIMIT:
                raise _invalid(
                    self.page_query_param,
                    f"`page` reaches only the first {PAGE_ROW_LIMIT} rows; follow the `next` "
                    "links (cursor) to go further.",
                )
            rows = list(ordered[offset : offset + size + 1])
            if number > 1 and not rows:
                raise NotFound("Invalid page.")
            if number > 1:
                self.previous_cursor = self._cursor_encode(rows[0], backwards=True)
        if len(rows) > size:
            rows = rows[:size]
            self.next_cursor = self._cursor_encode(rows[-1], backwards=False)
        if cursor is not None and rows:
            self.previous_cursor = self._cursor_encode(rows[0], backwards=True)
        return rows

    def _link(self, cursor: str | None) -> str | None:
        if cursor is None:
            return None
        url = remove_query_param(self.request.build_absolute_uri(), self.page_query_param)
        return replace_query_param(url, self.cursor_query_param, cursor)

    def get_paginated_response(self, data):
        return Response(
            OrderedDict(
                [
                    ("count", min(self.count, COUNT_LIMIT)),
                    ("count_exact", self.count <= COUNT_LIMIT),
                    ("next", self._link(self.next_cursor)),
                    ("previous", self._link(self.previous_cursor)),
                    ("results", data),
                ]
            )
        )

    # --- the OpenAPI document --------------------------------------------------------------

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["count", "count_exact", "next", "previous", "results"],
            "properties": {
                "count": {
                    "type": "integer",
                    "minimum": 0,
                    "maximum": COUNT_LIMIT,
                    "example": 123,
                    "description": f"Matching rows, exact up to {COUNT_LIMIT}.",
                },
                "count_exact": {
                    "type": "boolean",
                    "description": f"false when more than {COUNT_LIMIT} rows match.",
                },
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": f"Page number; pages reach the first {PAGE_ROW_LIMIT} rows.",
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": "Results per page: 20 by default, 100 at most.",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Opaque position from a `next` or `previous` link.",
                "schema": {"type": "string"},
            },
        ]
