"""Lists of API.md "Lists": capped count, keyset cursor links, page limit, strict page_size."""

import pytest

from articurated.api import pagination
from orders.tests.helpers import assert_error

ORDERS = "/api/v1/orders"


def walk(client, url, params=None, *, link="next"):
    """Follows `link` from the first answer until it is null; returns every page's body."""
    pages = [client.get(url, params).json()]
    while pages[-1][link] and len(pages) < 50:  # bounded: a loop would be a bug
        pages.append(client.get(pages[-1][link]).json())
    return pages


@pytest.mark.parametrize("ordering", [None, "total_amount", "-total_amount", "created_at"])
def test_next_links_visit_every_order_once_in_the_lists_order(api, make_order, ordering):
    # given 23 orders, several with the same total (ties are broken by id)
    made = [make_order() for _ in range(20)]
    made += [make_order(shipping_amount=f"{n}.00") for n in (9, 1, 30)]
    params = {"page_size": 7, **({"ordering": ordering} if ordering else {})}

    # when the client follows `next` from page 1
    pages = walk(api["Support"], ORDERS, params)

    # then it sees every order exactly once, in the order one big page gives
    seen = [o["id"] for page in pages for o in page["results"]]
    whole = api["Support"].get(ORDERS, {**params, "page_size": 100}).json()["results"]
    assert seen == [o["id"] for o in whole]
    assert sorted(seen) == sorted(str(o.pk) for o in made)
    assert [len(p["results"]) for p in pages] == [7, 7, 7, 2]
    assert all("cursor=" in p["next"] and "page=" not in p["next"] for p in pages[:-1])
    # and `previous` from the last page walks back through the same pages
    back = [pages[-1]]
    while back[-1]["previous"] and len(back) < 50:
        back.append(api["Support"].get(back[-1]["previous"]).json())
    assert [[o["id"] for o in p["results"]] for p in back[::-1]] == [
        [o["id"] for o in p["results"]] for p in pages
    ]


def test_count_is_exact_up_to_the_cap_then_capped(api, make_order, monkeypatch):
    # given a cap of 5 (10,000 in production) and 6 orders, 2 of them paid
    monkeypatch.setattr(pagination, "COUNT_LIMIT", 5)
    for _ in range(4):
        make_order()
    make_order("PAID"), make_order("PAID")

    # when
    everything = api["Support"].get(ORDERS).json()
    paid = api["Support"].get(ORDERS, {"status": "PAID"}).json()

    # then
    assert (everything["count"], everything["count_exact"]) == (5, False)
    assert len(everything["results"]) == 6  # the cap is on the count, not on the rows
    assert (paid["count"], paid["count_exact"]) == (2, True)


def test_page_reaches_only_the_first_rows_then_points_to_next(api, make_order, monkeypatch):
    # given a limit of 10 rows (10,000 in production) and 12 orders
    monkeypatch.setattr(pagination, "PAGE_ROW_LIMIT", 10)
    for _ in range(12):
        make_order()

    # when
    second = api["Support"].get(ORDERS, {"page_size": 5, "page": 2})
    third = api["Support"].get(ORDERS, {"page_size": 5, "page": 3})

    # then
    assert second.status_code == 200
    error = assert_error(third, 400, "VALIDATION_ERROR")
    assert "next" in error["details"]["page"][0]
    # and the cursor reaches past the limit
    rest = api["Support"].get(second.json()["next"]).json()
    assert len(rest["results"]) == 2 and rest["next"] is None


@pytest.mark.parametrize(
    "params",
    [
        {"page_size": "1000"},
        {"page_size": "101"},
        {"page_size": "0"},
        {"page_size": "-1"},
        {"page_size": "abc"},
        {"page": "0"},
        {"page": "x"},
        {"cursor": "not-a-cursor"},
        {"cursor": "eyJvIjogWyJ4Il19"},
        {"page": "1", "cursor": "abc"},
    ],
)
def test_bad_paging_parameters_are_400_not_ignored(api, make_order, params):
    make_order()
    response = api["Support"].get(ORDERS, params)
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert set(error["details"]) <= {"page", "page_size", "cursor"}


def test_a_cursor_of_one_ordering_is_refused_for_another(api, make_order):
    for _ in range(3):
        make_order()
    next_link = api["Support"].get(ORDERS, {"page_size": 1}).json()["next"]
    cursor = next_link.split("cursor=")[1].split("&")[0]

    response = api["Support"].get(ORDERS, {"cursor": cursor, "ordering": "total_amount"})

    assert_error(response, 400, "VALIDATION_ERROR")


def test_history_and_audit_lists_have_the_same_body(api, make_order):
    order = make_order("SHIPPED")
    history = api["Support"].get(f"{ORDERS}/{order.pk}/history", {"page_size": 2}).json()
    audit = api["Manager"].get("/api/v1/audit", {"page_size": 2}).json()
    for body in (history, audit):
        assert set(body) == {"count", "count_exact", "next", "previous", "results"}
        assert body["count_exact"] is True and "cursor=" in body["next"]
    walked = walk(api["Support"], f"{ORDERS}/{order.pk}/history", {"page_size": 2})
    transitions = [r["transition"] for p in walked for r in p["results"]]
    assert transitions == ["create", "pay", "start_processing", "ship"]
