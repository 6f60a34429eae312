"""A create or state change builds the order body once, for its webhook event, and answers
the API request with it (orders.serializers.order_body): the answer must still be the order
as it is when the request ends, never an earlier picture of it."""

from conftest import ORDER_PAYLOAD, order_make
from orders.selectors import order_get
from orders.serializers import order_body
from webhooks.models import Event


def test_the_answer_to_a_create_is_the_order_created_event(api):
    # when
    response = api["Support"].post("/api/v1/orders", ORDER_PAYLOAD, format="json")

    # then the answer, the event and a later read of the order are one body
    assert response.status_code == 201, response.json()
    body = response.json()
    event = Event.objects.get(type="order.created", order_id=body["id"])
    assert event.data == body
    assert api["Support"].get(f"/api/v1/orders/{body['id']}").json() == body


def test_the_answer_to_a_state_change_is_the_order_after_it(api, make_order):
    # given
    order = make_order("PROCESSING_IN_WAREHOUSE")

    # when it ships (its invoice is made after the shipped event was written)
    response = api["Warehouse"].patch(
        f"/api/v1/orders/{order.pk}/state",
        {"new_state": "SHIPPED", "carrier": "DHL", "tracking_number": "JD0001"},
        format="json",
    )

    # then the answer shows the invoice as a later read does, with its absolute URL
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "SHIPPED"
    assert body["invoice"]["url"] == f"http://testserver/api/v1/orders/{order.pk}/invoice"
    assert api["Warehouse"].get(f"/api/v1/orders/{order.pk}").json() == body
    shipped = Event.objects.get(type="order.shipped", order_id=order.pk).data
    assert {k: v for k, v in shipped.items() if k != "invoice"} == {
        k: v for k, v in body.items() if k != "invoice"
    }


def test_a_body_is_built_again_once_the_order_was_saved(db):
    # given a body built for an order in hand
    order = order_get(order_id=order_make().pk)
    assert order_body(order)["notes"] == ORDER_PAYLOAD["notes"]

    # when the same instance is changed and saved
    order.notes = "Leave it with the neighbour."
    order.save()

    # then its body shows the change
    assert order_body(order)["notes"] == "Leave it with the neighbour."
