"""The invoice download answers with a fixed number of SQL statements (QUALITY.md)."""

import pytest

from conftest import order_make

# Token and roles (1), the order with its invoice joined (1).
DOWNLOAD = 2


@pytest.mark.django_db(transaction=True)  # the worker's threads must see the order
def test_invoice_download_statements(jobs, api, django_assert_max_num_queries):
    order = order_make("SHIPPED")
    jobs.drain()

    with django_assert_max_num_queries(DOWNLOAD):
        response = api["Warehouse"].get(
            f"/api/v1/orders/{order.pk}/invoice", HTTP_ACCEPT="application/pdf"
        )

    assert response.status_code == 200
    assert (
        b"".join(response.streaming_content if response.streaming else [response.content])[:5]
        == b"%PDF-"
    )
