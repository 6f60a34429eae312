"""The historical tables (articurated.history) keep the indexes a history is read by, not
copies of every index of their model."""

import pytest
from django.db import connection

from catalogue.models import Category, Product, Sku
from orders.models import Order
from returns.models import Return


@pytest.mark.django_db
@pytest.mark.parametrize("model", [Order, Return, Category, Product, Sku], ids=lambda m: m.__name__)
def test_a_history_table_is_indexed_by_the_object_and_time_not_by_copies_of_its_indexes(model):
    # given the historical table of a model with indexes of its own (number, foreign keys, ...)
    history_model = model.history.model
    table = history_model._meta.db_table

    # when the database lists the columns its indexes cover
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    indexed = {tuple(c["columns"]) for c in constraints.values() if c["index"] or c["primary_key"]}

    # then a history is found by its object's id and ordered by time (every history read:
    # timelines, the admin's history pages, a SKU's stale-save check), and nothing else is
    # written on every change
    column = {f.name: f.column for f in history_model._meta.fields}
    assert indexed == {
        (column["history_id"],),
        (column[model._meta.pk.name],),
        (column["history_date"],),
        (column["history_user"],),
    }
