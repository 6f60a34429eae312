"""The admin in a real browser (headless Chromium driven by Playwright), as warehouse staff
would use it: log in, open a paid order, start processing, ship it with a tracking number."""

import os
import shutil

import pytest
from django.db import connections

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")

pytestmark = pytest.mark.skipif(
    not shutil.which(CHROMIUM),
    reason=f"needs Debian's chromium at {CHROMIUM} (apt-get install chromium)",
)


@pytest.fixture
def browser_page():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django must still allow the
    # (synchronous) ORM calls the test makes between browser steps.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page()
        yield page
        browser.close()
        # ORM calls made while Playwright's loop runs get their own (context-local) database
        # connection; close it here, or PostgreSQL cannot drop the test database at the end.
        connections.close_all()


def test_warehouse_ships_an_order_from_its_page(live_server, browser_page, users, make_order):
    # given a paid order and the warehouse user
    order = make_order("PAID")
    page = browser_page
    # when they log in and open the order
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", users["Warehouse"].username)
    page.fill("#id_password", "pw-for-tests-1")
    page.click("input[type=submit]")
    page.goto(f"{live_server.url}/admin/orders/order/{order.pk}/change/")
    # then only the transition they may make now is offered
    assert page.locator("a.transition-button").all_text_contents() == ["Start processing"]

    page.click("text=Start processing")
    page.click("input[type=submit][value='Start processing']")
    assert "processing started" in page.locator(".messagelist").inner_text().lower()
    page.click("text=Ship")
    page.fill("#id_carrier", "UPS")
    page.fill("#id_tracking_number", "1Z999AA10123456784")
    page.click("input[type=submit][value='Ship']")

    # then the page says so, and the timeline shows both steps by this user
    assert "shipped" in page.locator(".messagelist").inner_text().lower()
    timeline = page.locator("#timeline").inner_text()
    assert "ship: PROCESSING_IN_WAREHOUSE → SHIPPED" in timeline
    assert "start_processing: PAID → PROCESSING_IN_WAREHOUSE" in timeline
    assert "warehouse (ADMIN)" in timeline
    order.refresh_from_db()
    assert (order.status, order.tracking_number) == ("SHIPPED", "1Z999AA10123456784")
    page.screenshot(path=str(os.environ.get("SCREENSHOT_DIR", "var")) + "/admin-shipped.png")
