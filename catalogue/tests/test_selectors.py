"""sku_by_codes reads the SKUs an order names with hand-written SQL: what it gives must be what
the ORM gives, on SQLite and PostgreSQL alike (types included: UUID, Decimal, JSON, booleans,
datetimes)."""

from catalogue.models import Sku
from catalogue.selectors import sku_by_codes
from catalogue.services import sku_delete
from conftest import TEST_CONTEXT


def _values(instance) -> dict:
    return {
        field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields
    }


def test_skus_read_by_code_equal_the_orms_reading_of_them(shop):
    # when
    found = sku_by_codes(["vase-cel", "Vase-Ten", "RUG-MTO"])

    # then
    assert set(found) == {"vase-cel", "vase-ten", "rug-mto"}
    for sku in found.values():
        stored = Sku.objects.select_related("product").get(pk=sku.pk)
        assert _values(sku) == _values(stored)
        assert {k: type(v) for k, v in _values(sku).items()} == {
            k: type(v) for k, v in _values(stored).items()
        }
        assert _values(sku.product) == _values(stored.product)
        assert not sku._state.adding
    assert found["vase-cel"].attributes == {"glaze": "celadon"}
    assert found["vase-cel"].product.name == "Hand-thrown vase"
    assert found["vase-cel"].orderable


def test_deleted_and_unknown_codes_are_not_found(shop):
    # given
    tenmoku = Sku.objects.get(code="VASE-TEN")
    sku_delete(
        actor=None, context=TEST_CONTEXT, sku_id=tenmoku.pk, expected_version=tenmoku.version
    )

    # when
    found = sku_by_codes(["VASE-TEN", "NO-SUCH", "vase-cel"])

    # then
    assert list(found) == ["vase-cel"]
    assert sku_by_codes([]) == {}
