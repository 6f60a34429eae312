"""The admin index: a dashboard per role, each queue linking to its filtered list."""

from django.urls import reverse


def _panels(client, user) -> dict:
    client.force_login(user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    return {p.title: p for p in response.context["dashboard_panels"]}


def test_warehouse_sees_its_queues_counted_and_nothing_of_the_managers(client, users, make_order):
    # given two paid orders, one in the warehouse and one pending
    make_order("PAID")
    make_order("PAID")
    make_order("PROCESSING_IN_WAREHOUSE")
    make_order("PENDING_PAYMENT")
    # when warehouse staff open the admin index
    panels = _panels(client, users["Warehouse"])
    # then their queues are counted, each linking to its filtered list
    warehouse = {row.label: (row.count, row.url) for row in panels["Warehouse"].rows}
    orders = reverse("admin:orders_order_changelist")
    returns = reverse("admin:returns_return_changelist")
    assert warehouse == {
        "To process (paid)": (2, f"{orders}?status__exact=PAID"),
        "To ship (in warehouse)": (1, f"{orders}?status__exact=PROCESSING_IN_WAREHOUSE"),
        "Returns in transit, to receive": (0, f"{returns}?status__exact=IN_TRANSIT"),
        "Received returns, to complete": (0, f"{returns}?status__exact=RECEIVED"),
    }
    # and nothing of the managers' or support's dashboards
    assert not {"Returns", "Orders by state", "Invoice jobs", "Find an order"} & set(panels)


def test_support_gets_a_search_box_first_and_the_orders_waiting_longest(client, users, make_order):
    # given an old and a new unpaid order and a cancelled one
    older = make_order("PENDING_PAYMENT")
    make_order("PENDING_PAYMENT")
    cancelled = make_order("CANCELLED")
    # when support open the index
    panels = _panels(client, users["Support"])
    # then the search comes first, then who waits longest for payment, and cancellations
    assert next(iter(panels)) == "Find an order"
    assert panels["Find an order"].search_url == reverse("admin:orders_order_changelist")
    waiting = panels["Waiting for payment longest"].rows
    assert waiting[0].label.startswith(older.number)
    assert waiting[-1].count == 2
    recent = panels["Recent cancellations"].rows
    assert recent[0].label.startswith(cancelled.number)
    assert recent[0].note == "customer asked"
    assert not {"Warehouse", "Returns", "Invoice jobs"} & set(panels)


def test_manager_sees_counts_per_state_and_fourteen_day_charts(client, users, make_order):
    make_order("PAID")
    make_order("PENDING_PAYMENT")
    panels = _panels(client, users["Manager"])
    by_state = {row.label: row.count for row in panels["Orders by state"].rows}
    assert (by_state["Paid"], by_state["Pending payment"], by_state["Delivered"]) == (1, 1, 0)
    chart = panels["Orders, last 14 days"].chart
    assert len(chart.labels) == 14
    assert chart.series["Orders placed"][-1] == 2  # both placed today
    assert "Returns opened, last 14 days" in panels
    assert "Refunded, last 14 days" in panels
    assert panels["Returns"].rows[0].label == "Awaiting approval"
    assert "Warehouse" not in panels


def test_the_sidebar_shows_each_role_its_queues_with_counts(client, users, make_order):
    make_order("PAID")
    make_order("PAID")
    client.force_login(users["Warehouse"])
    navigation = client.get(reverse("admin:index")).context["sidebar_navigation"]
    items = {item["title"]: item for group in navigation for item in group["items"]}
    assert items["To process"]["badge"] == 2
    assert items["To ship"]["badge"] is None  # an empty queue shows no badge
    assert "Awaiting approval" not in items
    assert "Audit trail" not in items  # warehouse may not read the audit log
    client.force_login(users["Manager"])
    navigation = client.get(reverse("admin:index")).context["sidebar_navigation"]
    titles = {item["title"] for group in navigation for item in group["items"]}
    assert {"Awaiting approval", "Failed invoices", "Failed refunds", "Audit trail"} <= titles
    assert "To process" not in titles


def test_every_admin_page_a_user_may_open_is_reachable_from_the_sidebar(client, users):
    # given an admin page no app registered a sidebar link for (the gateway's ledger)
    client.force_login(users["admin"])
    navigation = client.get(reverse("admin:index")).context["sidebar_navigation"]
    links = {item["link"] for group in navigation for item in group["items"]}
    # then it is listed under "More", next to everything registered
    assert reverse("admin:payments_gatewaytransaction_changelist") in links
    assert reverse("admin:auth_user_changelist") in links
    assert len([link for link in links if link == reverse("admin:auth_user_changelist")]) == 1
