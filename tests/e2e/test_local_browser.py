"""e2e: the sample form in a real browser (Debian's Chromium): submit, confirm by mail, consent recorded."""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Local

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():  # never skipped: the e2e tier needs it (`make browser` installs it)
        found = shutil.which("chromium")
        pytest.fail(
            f"Chromium not found at {CHROMIUM} (on PATH: {found}); run `make browser` (apt-get install chromium)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


def test_swagger_ui_renders_the_spec_without_internet(local: Local, browser: Any):
    page = browser.new_page()
    page.goto(f"{local.base}/docs")
    page.wait_for_selector(".opblock", timeout=10_000)
    operations = sum(len(ops) for ops in local.call("GET", "/openapi.json").json["paths"].values())
    assert page.locator(".opblock").count() == operations
    page.close()


def test_form_submit_confirm_by_mail_and_consent_is_recorded(local: Local, browser: Any):
    email = f"browser-{uuid.uuid4().hex[:10]}@example.org"
    page = browser.new_page()
    page.set_default_timeout(10_000)

    page.goto(f"{local.base}/form?utm_source=e2e&utm_campaign=browser")
    page.fill("#email", email)
    page.fill("#first_name", "Brow")
    page.fill("#last_name", "Ser")
    page.check("#marketing_consent")
    page.click("#submit")
    page.wait_for_url(f"{local.base}/_local/thanks")
    assert page.inner_text("#thanks") == "Thank you!"

    mail = local.wait_for(lambda: local.mail_to(email), what="the confirmation mail")[0]
    assert "Confirm" in mail["subject"]
    link = re.search(r"(http://\S+/contacts/confirm\?token=\S+)", mail["text"])
    assert link, mail["text"]

    page.goto(link.group(1))
    page.click("#confirm")
    page.wait_for_load_state()
    assert "confirmed" in page.title().lower()
    page.close()

    found = local.call("GET", f"/contacts?email={email.replace('@', '%40')}", role="admin").json["items"]
    assert len(found) == 1
    contact = local.call("GET", f"/contacts/{found[0]['id']}", role="admin").json
    assert contact["consent"]["status"] == "confirmed"
    assert contact["first_name"] == "Brow"
    assert contact["first_touch"]["utm"]["source"] == "e2e"
