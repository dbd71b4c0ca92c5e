"""Real-browser tests: `streamlit run` on a free local port, driven by headless Chromium.

Needs Debian's chromium (`/usr/bin/chromium`; `.ci/run` installs it when missing). Without
it the tests are skipped, never faked.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from dashboard.config import PROJECT_ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed"),
]

PAGES = [
    "Übersicht", "Teams", "Mitarbeitende", "Wiedervorlage", "Wiederholte Fristüberschreitungen",
    "Stichproben", "Monatsbericht", "Ticket", "Daten",
]  # fmt: skip
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(demo_db, tmp_path_factory):
    """The dashboard served by `streamlit run` on the demo database.

    Its own records database, so what the browser records stays out of other tests.
    """
    port = _free_port()
    config = tmp_path_factory.mktemp("browser") / "config.toml"
    config.write_text(
        "[rules]\nreference_date = 2026-11-27\n[storage]\n"
        f'database = "{demo_db.database}"\n'
        f'app_database = "{config.parent / "app.duckdb"}"\n'
        f'key_file = "{demo_db.storage.key_file}"\n',
        encoding="utf-8",
    )
    env = os.environ | {"TICKET_CONTROLLING_CONFIG": str(config)}
    env.pop("TICKET_CONTROLLING_DB", None)
    process = subprocess.Popen(
        [
            sys.executable, "-m", "streamlit", "run", str(PROJECT_ROOT / "dashboard" / "app.py"),
            "--server.port", str(port), "--server.address", "127.0.0.1",
            "--server.headless", "true", "--browser.gatherUsageStats", "false",
        ],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.3)
    else:
        process.kill()
        pytest.fail("streamlit did not start: " + process.stdout.read().decode()[-2000:])
    yield url
    process.terminate()
    process.wait(timeout=20)


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()


def _settled(page, title: str) -> None:
    """Wait until the page's title is shown and the script run has finished."""
    page.get_by_role("heading", name=title).first.wait_for()
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000
    )
    assert page.locator('[data-testid="stException"]').count() == 0
    assert "Traceback" not in page.inner_text("body")


def test_every_page_opens_through_the_navigation(server, page):
    page.goto(server)
    _settled(page, "Übersicht")
    for title in PAGES:
        nav = page.locator('[data-testid="stSidebarNav"]')
        # The link's name may carry the page icon before the title.
        nav.get_by_role("link", name=re.compile(rf"{title}$")).click()
        _settled(page, title)


def test_wiedervorlage_xlsx_download_opens(server, page, tmp_path):
    from openpyxl import load_workbook

    page.goto(f"{server}/wiedervorlage")
    _settled(page, "Wiedervorlage")
    with page.expect_download() as info:
        page.get_by_role("button", name="Excel herunterladen").first.click()
    target = tmp_path / "wiedervorlage.xlsx"
    info.value.save_as(target)
    sheet = load_workbook(target).worksheets[0]
    header = [cell.value for cell in next(sheet.iter_rows(max_row=1))]
    assert any("Ticket" in str(h) for h in header)
    assert sheet.max_row > 1


def test_draw_a_sample_record_a_result_and_download_the_report(server, page, tmp_path):
    from openpyxl import load_workbook

    page.goto(f"{server}/stichproben")
    _settled(page, "Stichproben")
    page.get_by_label("Gezogen von").fill("Browser-Test")
    page.get_by_role("button", name="Stichprobe ziehen").click()
    page.get_by_text("geprüft 0 von").first.wait_for()
    page.get_by_label("Geprüft von").fill("Browser-Test")
    page.get_by_role("button", name="Ergebnis speichern").click()
    page.get_by_text("geprüft 1 von").first.wait_for()
    _settled(page, "Stichproben")

    page.goto(f"{server}/monatsbericht")
    _settled(page, "Monatsbericht")
    with page.expect_download() as info:
        page.get_by_role("button", name=re.compile("Excel")).first.click()
    target = tmp_path / "bericht.xlsx"
    info.value.save_as(target)
    names = load_workbook(target).sheetnames
    assert "Übersicht" in names and "Regeln" in names
