def test_admin_index_shows_work_queues_counted_from_the_orders(client, users, make_order):
    # given two paid orders, one in the warehouse and one pending
    make_order("PAID")
    make_order("PAID")
    make_order("PROCESSING_IN_WAREHOUSE")
    make_order("PENDING_PAYMENT")
    client.force_login(users["Warehouse"])
    # when warehouse staff open the admin index
    panels = {p.title: p for p in client.get("/admin/").context["dashboard_panels"]}
    # then the queues and the per-state counts are shown
    warehouse = {row.label: row.count for row in panels["Warehouse"].rows}
    assert warehouse == {"To process (paid)": 2, "To ship (in warehouse)": 1}
    by_state = {row.label: row.count for row in panels["Orders by state"].rows}
    assert (by_state["Paid"], by_state["Pending payment"], by_state["Delivered"]) == (2, 1, 0)
