"""Statement counts of the busiest back-office pages, pinned (STYLE.md speed habits): they do
not grow with the number of rows shown, and a change that adds statements fails here."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

# Pinned from a run on this code: sidebar badges and dashboard counts included.
ORDER_LIST_MAX = 10
AUDIT_LIST_MAX = 11
ORDER_PAGE_MAX = 21  # 19, plus the webhook lines: the events and their deliveries


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.fixture
def support(client, users):
    client.force_login(users["Support"])
    client.get(reverse("admin:index"))  # the session and permission caches are warm
    return client


def test_the_order_list_costs_the_same_for_3_or_15_orders(
    support, make_order, django_assert_max_num_queries
):
    url = reverse("admin:orders_order_changelist")
    for _ in range(3):
        make_order("SHIPPED")
    few = _count(support, url)
    for _ in range(12):
        make_order("PAID")
    with django_assert_max_num_queries(ORDER_LIST_MAX):
        support.get(url)
    assert _count(support, url) == few


def test_the_audit_list_costs_the_same_for_few_or_many_records(
    support, make_order, django_assert_max_num_queries
):
    url = reverse("admin:audit_auditrecord_changelist")
    make_order("PAID")
    few = _count(support, url)
    for _ in range(6):
        make_order("DELIVERED")
    with django_assert_max_num_queries(AUDIT_LIST_MAX):
        support.get(url)
    assert _count(support, url) == few


def test_the_order_page_costs_the_same_however_long_its_story(
    support, make_order, django_assert_max_num_queries
):
    short = make_order("PENDING_PAYMENT")
    long = make_order("DELIVERED")
    for index in range(4):
        make_order("PAID", customer={"email": "ada@example.com", "name": f"Ada {index}"})
    short_cost = _count(support, reverse("admin:orders_order_change", args=[short.pk]))
    with django_assert_max_num_queries(ORDER_PAGE_MAX):
        support.get(reverse("admin:orders_order_change", args=[long.pk]))
    assert _count(support, reverse("admin:orders_order_change", args=[long.pk])) <= short_cost + 2
