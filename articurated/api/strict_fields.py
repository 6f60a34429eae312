"""The catalogue's names for the shared strict fields (articurated/api/fields.py): one set of
rules and OpenAPI patterns for every endpoint."""

from articurated.api.fields import StrictBooleanField, StrictIntegerField, StrictMoneyField

MoneyField = StrictMoneyField

__all__ = ["MoneyField", "StrictBooleanField", "StrictIntegerField"]
