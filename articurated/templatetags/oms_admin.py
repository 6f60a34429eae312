"""Template helpers of the back-office (a builtin of the template engine, see settings)."""

from django import template

from articurated.admin_site import state_variant

register = template.Library()


@register.filter
def oms_state_variant(state: str) -> str:
    """The unfold label variant of a state: one colour per kind of state everywhere."""
    return state_variant(str(state))
