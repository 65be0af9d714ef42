"""Driving the back office in Debian's Chromium with Playwright: the browser, the page, screenshots.

Playwright drives `/usr/bin/chromium`; it never downloads a browser. The tests skip on a machine
without Chromium, but fail with REQUIRE_CHROMIUM=1 (CI) rather than pass silently. Pages are
1366×768, a shop laptop's screen; every step leaves a screenshot under `artifacts/screenshots/`.
"""

import os
import re
from pathlib import Path

import pytest

from accounts.tests.factories import UserFactory

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
STAFF_PASSWORD = "back-office-pass-42"
TIMEOUT_MS = 10_000


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("REQUIRE_CHROMIUM") == "1":
            pytest.fail(f"the admin browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
        pytest.skip(f"needs Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps its event loop registered as running in this thread, so
    # Django's ORM calls made by the tests (factories, DB assertions) would raise
    # SynchronousOnlyOperation. The ORM is used synchronously here; allow it for this module only.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def staff(transactional_db):
    return UserFactory(email="clerk@bookstore.example", password=STAFF_PASSWORD, is_staff=True, is_superuser=True)


class Steps:
    """Screenshots named after the test, numbered in the order the staff member saw them."""

    def __init__(self, page, test_name: str):
        self.page = page
        self.prefix = re.sub(r"\W+", "_", test_name.removeprefix("test_"))
        self.count = 0
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def shot(self, name: str) -> None:
        self.count += 1
        self.page.screenshot(path=SCREENSHOTS / f"{self.prefix}-{self.count:02d}-{name}.png", full_page=True)


@pytest.fixture
def page(browser, live_server, request):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1366, "height": 768})
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    yield tab
    context.close()


def log_in(page, steps: Steps, email: str, password: str) -> None:
    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    steps.shot("login")
    page.click("#login-form button[type=submit]")


# unfold's message boxes, by their colour: its templates give them no level class.
_MESSAGE_CLASSES = {"success": "bg-green-100", "error": "bg-red-100", "warning": "bg-orange-100", "info": "bg-blue-100"}


def messages(page, level: str) -> list[str]:
    return [text.strip() for text in page.locator(f"li > div.{_MESSAGE_CLASSES[level]}").all_inner_texts()]


def open_filters(page) -> None:
    """Below 1536 px unfold keeps a changelist's filters in a sheet that its Filters button opens."""
    page.locator('a[x-on\\:click="filterOpen = true"]').click()
    page.locator("#changelist-filter").wait_for()
