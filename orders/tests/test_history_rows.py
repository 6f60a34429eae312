"""Order's HistoricalRecords (articurated.history) writes the historical row itself (one
INSERT of fixed text); the row must be the one django-simple-history would write, and its
signals still sent."""

from simple_history.signals import post_create_historical_record, pre_create_historical_record

from conftest import ORDER_PAYLOAD
from orders.models import Order


def test_a_created_order_has_one_history_row_equal_to_it_by_its_creator(api, users):
    # given
    seen = []

    def pre(sender, history_instance, **kwargs):
        seen.append(("pre", sender, history_instance.history_id))

    def post(sender, history_instance, **kwargs):
        seen.append(("post", sender, history_instance.history_id))

    pre_create_historical_record.connect(pre)
    post_create_historical_record.connect(post)
    try:
        # when
        response = api["Support"].post("/api/v1/orders", ORDER_PAYLOAD, format="json")
    finally:
        pre_create_historical_record.disconnect(pre)
        post_create_historical_record.disconnect(post)

    # then
    assert response.status_code == 201, response.json()
    order = Order.objects.get(pk=response.json()["id"])
    row = order.history.get()
    assert (row.history_type, row.history_user) == ("+", users["Support"])
    tracked = [f.attname for f in Order._meta.concrete_fields if f.attname != "updated_at"]
    assert {name: getattr(row, name) for name in tracked} == {
        name: getattr(order, name) for name in tracked
    }
    history_model = type(row)
    assert seen == [("pre", history_model, None), ("post", history_model, row.history_id)]
