"""A stale save in a real browser (headless Chromium driven by Playwright): two people open the
same product; the second one's save is refused, naming who changed it and when."""

import os
import shutil

import pytest
from django.db import connections

from catalogue.models import Product
from catalogue.tests.conftest import category_make, product_make

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")

pytestmark = [
    pytest.mark.skipif(
        not shutil.which(CHROMIUM),
        reason=f"needs Debian's chromium at {CHROMIUM} (apt-get install chromium)",
    ),
    pytest.mark.empty_catalogue,
]


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django must still allow the
    # (synchronous) ORM calls the test makes between browser steps.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()
        connections.close_all()


def _logged_in(browser, live_server, username):
    page = browser.new_context().new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw-for-tests-1")
    page.click("button[type=submit]")
    page.locator("#id_username").wait_for(state="detached")  # logged in: the form is gone
    return page


def test_a_stale_admin_save_is_refused_with_who_and_when(live_server, browser, users):
    from playwright.sync_api import expect

    # given a product, and a manager and the admin both with its page open
    vase = product_make("Hand-thrown vase", category_make("Vases"), {"sku": "VASE-B1"})
    url = f"{live_server.url}/admin/catalogue/product/{vase.pk}/change/"
    manager = _logged_in(browser, live_server, users["Manager"].username)
    admin = _logged_in(browser, live_server, users["admin"].username)
    manager.goto(url)
    admin.goto(url)

    # when the admin renames it first
    admin.fill("#id_name", "Celadon vase")
    admin.click("button[name=_save]")
    # expect() waits for the page after the save, instead of reading the one being left
    expect(admin.locator("body")).to_contain_text("changed successfully")

    # and the manager then saves the page they opened before that
    manager.fill("#id_description", "Glaze pooled at the foot")
    manager.click("button[name=_save]")

    # then the manager's save is refused, naming who changed it and when
    expect(manager.locator("body")).to_contain_text("Not saved: admin changed this at")
    text = manager.locator("body").inner_text()
    assert "now version 2" in text
    assert "They changed: name." in text
    vase = Product.objects.get(pk=vase.pk)
    assert (vase.name, vase.description, vase.version) == ("Celadon vase", "", 2)
    manager.screenshot(path=str(os.environ.get("SCREENSHOT_DIR", "var")) + "/admin-stale.png")
