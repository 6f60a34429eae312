def test_order_lifecycle_over_rest(api):
    # given an integrator creates an order
    response = api["Integrator"].post(
        "/api/v1/orders", __import__("conftest").ORDER_PAYLOAD, format="json"
    )
    assert response.status_code == 201, response.json()
    order = response.json()
    assert order["total_amount"] == "104.00"
    assert order["allowed_transitions"] == ["PAID", "CANCELLED"]
    # when it moves through the lifecycle
    oid = order["id"]
    r = api["Integrator"].patch(
        f"/api/v1/orders/{oid}/state",
        {"new_state": "PAID", "payment_reference": "p1"},
        format="json",
    )
    assert r.status_code == 200, r.json()
    r = api["Warehouse"].patch(
        f"/api/v1/orders/{oid}/state/", {"new_state": "PROCESSING_IN_WAREHOUSE"}, format="json"
    )
    assert r.status_code == 200, r.json()
    r = api["Warehouse"].post(
        f"/api/v1/orders/{oid}/state",
        {"new_state": "SHIPPED", "carrier": "UPS", "tracking_number": "1Z"},
        format="json",
    )
    assert r.status_code == 200, r.json()
    r = api["Integrator"].patch(
        f"/api/v1/orders/{oid}/state",
        {"new_state": "PAID", "payment_reference": "p1"},
        format="json",
    )
    assert r.status_code == 409, r.json()
    print(r.json())
    r = api["Integrator"].get(f"/api/v1/orders/{oid}/history")
    print(r.json())
    assert r.json()["count"] == 4
