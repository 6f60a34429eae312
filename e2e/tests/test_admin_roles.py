"""A day of each role in a real browser: headless Chromium (Debian's, see DEVELOPERS notes in
the README) driven by Playwright against a live server. Each test also asserts what that role
must not see. The tests take the screenshots shown in the README (docs/screenshots/, rewritten
by `make screenshots`; other runs write them to var/screenshots/).

These tests cross every app (orders, returns, invoices, refunds), so they live outside the
apps, above the import-linter layers."""

import os
import shutil
from pathlib import Path

import pytest
from django.db import connections

from conftest import TEST_CONTEXT, order_make

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
# The README's pictures are rewritten only when asked (`make screenshots`), so a test run leaves
# the working tree clean; otherwise they land in var/ for a look.
SCREENSHOTS = ROOT / ("docs" if os.environ.get("UPDATE_SCREENSHOTS") else "var") / "screenshots"
PASSWORD = "pw-for-tests-1"  # conftest.make_user's

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
        # The narrowest screen the back-office is used on.
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        page.set_default_timeout(15_000)
        yield page
        browser.close()
        # ORM calls made while Playwright's loop runs get their own (context-local) database
        # connection; close it here, or PostgreSQL cannot drop the test database at the end.
        connections.close_all()


def log_in(page, live_server, user) -> None:
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_load_state()
    assert page.url == f"{live_server.url}/admin/", page.locator("body").inner_text()[:500]


def shoot(page, name: str, *, full_page: bool = False) -> None:
    """A screenshot for the README. A whole page is taken with a viewport as tall as the page
    (Playwright's full_page would paint the sticky sidebar and footer mid-page)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    if full_page:
        height = page.evaluate("document.documentElement.scrollHeight")
        page.set_viewport_size({"width": size["width"], "height": min(height, 3000)})
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    page.set_viewport_size(size)


def go(page, selector: str) -> None:
    """Clicks a link or button that loads a page, and waits for that page."""
    with page.expect_navigation():
        page.click(selector)


def transitions(page) -> list[str]:
    """The steps offered on a detail page (its detail-action buttons)."""
    return [a.get_attribute("data-transition") for a in page.locator("[data-transition]").all()]


def sidebar(page) -> str:
    return page.locator("#nav-sidebar-apps").inner_text()


def messages_text(page) -> str:
    return " ".join(
        page.locator("#content .messagelist, .messagelist, [role=alert]").all_inner_texts()
    )


def test_warehouse_ships_from_the_to_ship_queue_and_sees_the_invoice(
    live_server, browser_page, users, jobs
):
    # given two orders in the warehouse, one paid, and a return on its way back
    from returns.services import return_change_state, return_create

    parcel = return_create(
        actor=None, context=TEST_CONTEXT, order_id=order_make("DELIVERED").pk, reason="DAMAGED"
    )
    for state in ("APPROVED", "IN_TRANSIT"):
        return_change_state(return_id=parcel.pk, actor=None, context=TEST_CONTEXT, new_state=state)
    order = order_make("PROCESSING_IN_WAREHOUSE")
    order_make("PROCESSING_IN_WAREHOUSE")
    order_make("PAID")
    page = browser_page
    log_in(page, live_server, users["Warehouse"])

    # then the dashboard shows the warehouse queues, and nothing of support or managers
    queues = page.locator("[data-panel='Warehouse']").inner_text()
    assert "To ship (in warehouse)" in queues and "Returns in transit, to receive" in queues
    assert "Awaiting approval" not in sidebar(page)
    assert "Audit trail" not in sidebar(page)
    assert page.locator("[data-panel='Find an order']").count() == 0
    shoot(page, "dashboard-warehouse")

    # when they open "to ship" from the dashboard and the oldest order in it
    go(page, "text=To ship (in warehouse)")
    assert page.locator("#result_list tr.data-row").count() == 2
    go(page, f"text={order.number}")
    # then only what warehouse may do now is offered: no cancelling, no editing
    assert transitions(page) == ["ship"]
    assert (
        page.locator("input[name=_save]").count() == 0
        or page.locator("#id_customer_name").count() == 0
    )

    # when they ship it with carrier and tracking number
    go(page, "[data-transition=ship]")
    page.fill("#id_carrier", "UPS")
    page.fill("#id_tracking_number", "1Z999AA10123456784")
    go(page, "#transition-submit")
    assert "shipped" in page.locator("body").inner_text().lower()
    # and the invoice job runs
    jobs.drain()
    page.reload()

    # then the timeline tells it in words, with the invoice, in the site's zone
    timeline = page.locator("#timeline").inner_text()
    assert "Shipped with UPS, tracking 1Z999AA10123456784" in timeline
    assert "Warehouse started processing" in timeline
    assert "warehouse · admin" in timeline
    assert "generated" in timeline and "Invoice INV-" in timeline
    assert "Times in UTC" in timeline
    assert "PROCESSING_IN_WAREHOUSE" not in timeline
    order.refresh_from_db()
    assert (order.status, order.tracking_number) == ("SHIPPED", "1Z999AA10123456784")
    shoot(page, "order-page-timeline", full_page=True)


def test_manager_rejects_one_and_bulk_approves_two_from_the_approval_queue(
    live_server, browser_page, users
):
    from returns.models import Return
    from returns.services import return_create

    # given three requested returns
    returns = [
        return_create(
            actor=None, context=TEST_CONTEXT, order_id=order_make("DELIVERED").pk,
            reason=reason, comment=comment,
        )
        for reason, comment in [
            ("DAMAGED", "Crack on the rim"),
            ("NOT_AS_DESCRIBED", "Much darker than the photo"),
            ("NO_LONGER_NEEDED", "Bought two by mistake"),
        ]
    ]  # fmt: skip
    page = browser_page
    log_in(page, live_server, users["Manager"])

    # then the dashboard has the approval queue with its oldest age, and charts
    panel = page.locator("[data-panel='Returns']").inner_text()
    assert "Awaiting approval" in panel and "oldest waits" in panel
    assert page.locator("canvas.chart").count() == 3
    # and nothing of the warehouse's or support's dashboards, nor the superuser's pages
    assert page.locator("[data-panel='Warehouse']").count() == 0
    assert page.locator("[data-panel='Find an order']").count() == 0
    assert "Users" not in sidebar(page)
    shoot(page, "dashboard-manager")

    # when they open the queue from the dashboard
    with page.expect_navigation():
        page.locator("[data-panel='Returns']").get_by_text("Awaiting approval").click()
    rows = page.locator("#result_list tr.data-row")
    assert rows.count() == 3
    assert returns[0].number in rows.nth(0).inner_text()  # oldest first
    shoot(page, "approval-queue")

    # when they open the second and reject it with a reason in the decision box
    go(page, f"text={returns[1].number}")
    assert page.locator("#decision-box").count() == 1
    shoot(page, "return-page", full_page=True)
    page.fill("#id_decision_reason", "Colour matches the photo")
    go(page, "[data-decision=reject]")
    assert "rejected" in page.locator("body").inner_text().lower()
    timeline = page.locator("#timeline").inner_text()
    assert f"Return {returns[1].number} rejected" in timeline
    assert "Reason: Colour matches the photo" in timeline

    # when they bulk-approve the other two from the queue
    page.goto(f"{live_server.url}/admin/returns/return/?queue=awaiting")
    page.locator("#result_list tr.data-row input.action-select").nth(0).check()
    page.locator("#result_list tr.data-row input.action-select").nth(1).check()
    page.select_option("select[name=action]", "approve_selected")
    go(page, "button[name=index], button[type=submit][title], #changelist-actions button")
    page.fill("#id_reason", "Within policy")
    go(page, "#decide-submit")
    body = page.locator("body").inner_text()
    assert f"{returns[0].number}: approved." in body and f"{returns[2].number}: approved." in body
    statuses = dict(Return.objects.values_list("number", "status"))
    assert statuses == {
        returns[0].number: "APPROVED",
        returns[1].number: "REJECTED",
        returns[2].number: "APPROVED",
    }


def test_support_finds_by_tracking_fixes_nothing_invalid_cancels_and_opens_a_return(
    live_server, browser_page, users
):
    from orders.models import Order
    from orders.services import order_deliver, order_ship
    from returns.models import Return

    # given a paid order, a shipped one and a delivered one (and the day's other work)
    order_make("PENDING_PAYMENT")
    order_make("CANCELLED")
    paid = order_make("PAID")
    shipped = order_make("SHIPPED", customer={"email": "grace@example.com", "name": "Grace Hopper"})
    delivered = order_make("PROCESSING_IN_WAREHOUSE")
    for step in (order_ship, order_deliver):
        extra = {"carrier": "DHL", "tracking_number": "JD0146000099"} if step is order_ship else {}
        delivered = step(order_id=delivered.pk, actor=None, context=TEST_CONTEXT, **extra)
    page = browser_page
    log_in(page, live_server, users["Support"])

    # then the dashboard starts with the search box, and no warehouse or manager queues
    assert page.locator("#work-queues .dashboard-panel").first.get_attribute("data-panel") == (
        "Find an order"
    )
    assert "Awaiting approval" not in sidebar(page) and "To ship" not in sidebar(page)
    shoot(page, "dashboard-support")

    # when they search by the tracking number
    page.fill("#dashboard-search input[name=q]", shipped.tracking_number)
    go(page, "#dashboard-search button")
    rows = page.locator("#result_list tr.data-row")
    assert rows.count() == 1 and shipped.number in rows.inner_text()
    go(page, f"text={shipped.number}")
    # then a shipped order's details cannot be edited, and no warehouse step is offered
    assert page.locator("#id_shipping_city").count() == 0
    assert page.locator("[data-transition]").count() == 0

    # when they correct the paid order's country to "Germany"
    page.goto(f"{live_server.url}/admin/orders/order/{paid.pk}/change/")
    page.click("text=Shipping address")
    page.fill("#id_shipping_country", "Germany")
    go(page, "input[name=_save], button[name=_save]")
    # then they see why it is refused (not cut to "Ge"), and nothing is saved
    assert "Did you mean DE?" in page.locator("body").inner_text()
    assert Order.objects.get(pk=paid.pk).shipping_country == "GB"

    # when they cancel it with a reason
    page.goto(f"{live_server.url}/admin/orders/order/{paid.pk}/change/")
    assert transitions(page) == ["cancel"]
    go(page, "[data-transition=cancel]")
    page.fill("#id_reason", "Customer called to cancel")
    go(page, "#transition-submit")
    assert "cancelled" in page.locator("body").inner_text().lower()
    assert "Reason: Customer called to cancel" in page.locator("#timeline").inner_text()

    # when they open a return from the delivered order's page, keeping the lines offered
    page.goto(f"{live_server.url}/admin/orders/order/{delivered.pk}/change/")
    go(page, "text=Open a return")
    assert page.locator("#return-order").inner_text().startswith(delivered.number)
    page.select_option("#id_reason", "DAMAGED")
    go(page, "#open-return-submit")
    # then the return exists, and support has no decision box on it
    opened = Return.objects.get(order=delivered)
    assert opened.status == "REQUESTED"
    assert opened.number in page.locator("body").inner_text()
    assert page.locator("#decision-box").count() == 0
    assert page.locator("[data-transition]").count() == 0
