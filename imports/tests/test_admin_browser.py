"""The upload page in a real browser (headless Chromium driven by Playwright): a manager
uploads a CSV, sees the upload's progress, then the import's live progress (SSE) reach 100 %
without reloading. `make screenshots` saves its picture as docs/screenshots/import-progress.png."""

import os
import shutil
from pathlib import Path

import dramatiq
import pytest
from django.db import connections

from catalogue.models import Sku

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# docs/screenshots/ only under `make screenshots` (UPDATE_SCREENSHOTS=1), as the e2e tests do;
# an ordinary run leaves the committed picture alone.
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = (
    ROOT / ("docs" if os.environ.get("UPDATE_SCREENSHOTS") else "var") / "screenshots"
) / "import-progress.png"

pytestmark = pytest.mark.skipif(
    not shutil.which(CHROMIUM),
    reason=f"needs Debian's chromium at {CHROMIUM} (apt-get install chromium)",
)


@pytest.fixture
def browser_page():
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        yield page
        browser.close()
        connections.close_all()


@pytest.fixture
def running_worker(jobs):
    """A Dramatiq worker on the test broker for the whole test (the import job runs as it
    would in production, in its own thread and database connection)."""
    worker = dramatiq.Worker(jobs.broker, worker_threads=1, worker_timeout=100)
    worker.start()
    yield worker
    worker.stop()
    connections.close_all()


def test_a_manager_uploads_a_csv_and_watches_it_reach_100_percent(
    live_server, browser_page, users, running_worker, settings, tmp_path
):
    # given a manager, a CSV of 300 SKUs (a few invalid), and short SSE streams (re-opened)
    settings.MEDIA_ROOT = tmp_path
    settings.IMPORT_EVENTS_STREAM_SECONDS = 1
    settings.IMPORT_BATCH_PRODUCTS = 50
    rows = "".join(f"BRW-{i:04d},Hand-thrown cup {i},{9 + i % 5}.50,Ceramics / Cups,{i % 7}\n"
                   for i in range(300))  # fmt: skip
    csv_path = tmp_path / "cups.csv"
    csv_path.write_text(
        "SKU;Name;Price;Category;Stock\n".replace(";", ",") + rows + "bad sku,x,1,,\n"
    )
    page = browser_page

    # when they log in, open the upload page and send the file
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", users["Manager"].username)
    page.fill("#id_password", "pw-for-tests-1")
    page.click("button[type=submit]")  # Unfold's login form
    page.goto(f"{live_server.url}/admin/imports/import/upload/")
    page.set_input_files("#import-file", str(csv_path))
    page.click("#import-submit")

    # then the upload's bar fills, and the import's progress reaches 100 % on the same page
    page.wait_for_selector("#upload-percent:has-text('100 %')", timeout=30_000)
    page.wait_for_selector("#import-status:has-text('COMPLETED')", timeout=90_000)
    assert page.url.endswith("/admin/imports/import/upload/")  # no reload
    assert page.locator("#import-percent").inner_text() == "100 %"
    assert "301 of 301 rows" in page.locator("#import-rows").inner_text()
    counts = page.locator("#import-counts").inner_text()
    assert "Created 300" in counts and "invalid 1" in counts
    assert page.locator("#import-errors-link").is_visible()
    assert Sku.objects.filter(code__startswith="BRW-").count() == 300
    page.wait_for_timeout(600)  # the bar's width transition, for the picture
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
