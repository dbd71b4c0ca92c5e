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

from dashboard.core.config import PROJECT_ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed"),
]

# The pages of the first demo user (a team leader of all teams); Daten is the admin's.
PAGES = [
    "Übersicht", "Teams", "Mitarbeitende", "Wiedervorlage", "Regelverstöße",
    "Wiederholte Fristüberschreitungen", "Stichproben", "Monatsbericht", "Ticket",
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


def _serve(config: Path, tmp: Path, address: str = "127.0.0.1"):
    """Run `streamlit run` with the configuration on a free port; yields its URL.

    `address` is what Streamlit listens on; the tests always connect over loopback.
    """
    port = _free_port()
    env = os.environ | {"TICKET_CONTROLLING_CONFIG": str(config)}
    for name in (
        "TICKET_CONTROLLING_DB",
        "TICKET_CONTROLLING_KEY_FILE",
        "TICKET_CONTROLLING_USERS",
    ):
        env.pop(name, None)
    log = open(tmp / "streamlit.log", "wb")  # noqa: SIM115 - open while the server runs
    process = subprocess.Popen(
        [
            sys.executable, "-m", "streamlit", "run", str(PROJECT_ROOT / "dashboard" / "app.py"),
            "--server.port", str(port), "--server.address", address,
            "--server.headless", "true", "--browser.gatherUsageStats", "false",
        ],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT,
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
        log.close()
        pytest.fail("streamlit did not start: " + (tmp / "streamlit.log").read_text()[-2000:])
    yield url
    process.terminate()
    process.wait(timeout=20)
    log.close()


@pytest.fixture(scope="module")
def server(demo_db, tmp_path_factory):
    """The dashboard served by `streamlit run` on the demo database (demo mode).

    Its own records database, so what the browser records stays out of other tests.
    """
    tmp = tmp_path_factory.mktemp("browser")
    config = tmp / "config.toml"
    config.write_text(
        "[rules]\nreference_date = 2026-11-27\n[storage]\n"
        f'database = "{demo_db.database}"\n'
        f'app_database = "{tmp / "app.duckdb"}"\n'
        f'key_file = "{demo_db.storage.key_file}"\n',
        encoding="utf-8",
    )
    yield from _serve(config, tmp)


@pytest.fixture(scope="module")
def proxy_server(access_db, tmp_path_factory):
    """The dashboard behind a (simulated) single sign-on proxy: users named by a header."""
    tmp = tmp_path_factory.mktemp("proxy")
    yield from _serve(_proxy_config(access_db, "proxy"), tmp)


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


def test_a_finding_opens_its_ticket_in_the_same_tab(server, page):
    # the demo office's findings of October 2026 (Stichtag 27.11.2026)
    page.goto(f"{server}/regelverstoesse?von=2026-10&bis=2026-10")
    _settled(page, "Regelverstöße")
    grid = page.locator('[data-testid="stDataFrame"]').first
    box = grid.bounding_box()
    # the selection checkbox of the first row (header and row are 35 px high)
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)
    page.wait_for_url(re.compile(r"/ticket\?.*id=T-"))
    _settled(page, "Ticket")
    assert len(page.context.pages) == 1  # no new tab: the session and its filters stay
    assert "stichtag=2026-11-27" in page.url and "von=2026-10" in page.url


def test_draw_a_sample_record_a_result_and_download_the_report(server, page, tmp_path):
    from openpyxl import load_workbook

    page.goto(f"{server}/stichproben")
    _settled(page, "Stichproben")
    page.get_by_role("button", name="Stichprobe ziehen").click()
    page.get_by_text("geprüft 0 von").first.wait_for()
    _settled(page, "Stichproben")
    # the sample's CSV, filled in as a team leader would, and loaded back
    import pandas as pd

    with page.expect_download() as info:
        page.get_by_role("button", name="CSV herunterladen").first.click()
    sheet = tmp_path / "stichprobe.csv"
    info.value.save_as(sheet)
    filled = pd.read_csv(sheet, sep=";", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    filled.loc[0, "Ergebnis"] = "bestätigt"
    filled.to_csv(sheet, sep=";", index=False, encoding="utf-8-sig")
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(sheet)
    page.get_by_role("button", name="Ergebnisse übernehmen").click()
    page.get_by_text("geprüft 1 von").first.wait_for()
    page.get_by_text("1 Ergebnis(se) gespeichert").first.wait_for()
    _settled(page, "Stichproben")

    page.goto(f"{server}/monatsbericht")
    _settled(page, "Monatsbericht")
    with page.expect_download() as info:
        page.get_by_role("button", name=re.compile("Excel")).first.click()
    target = tmp_path / "bericht.xlsx"
    info.value.save_as(target)
    names = load_workbook(target).sheetnames
    assert "Übersicht" in names and "Regeln" in names


PROXY_SECRET = "the-proxy-secret-0123456789abcdef"


def _proxy_config(access_db: Path, name: str, extra: str = "") -> Path:
    config = access_db.parent / f"{name}.toml"
    config.write_text(
        access_db.read_text(encoding="utf-8")
        .replace('mode = "oidc"', f'mode = "proxy"\nproxy_header = "X-Remote-User"\n{extra}')
        .replace('"db/app.duckdb"', f'"db/app-{name}.duckdb"'),
        encoding="utf-8",
    )
    return config


EVIL_ID = "T-<img src=https://evil.example/id.png>"
EVIL_WORKER = "[Hier klicken](https://evil.example/w) <a href=https://evil.example/a>x</a>"


@pytest.fixture(scope="module")
def crafted_server(tmp_path_factory):
    """Demo mode on a database built from a crafted export: HTML and Markdown in the data."""
    from dashboard.core.config import load_config
    from etl.load import load_files
    from etl.sources import csv_text
    from tests.conftest import HEADER, ticket_row

    tmp = tmp_path_factory.mktemp("crafted")
    config = tmp / "config.toml"
    config.write_text(
        '[rules]\nreference_date = 2026-03-31\n[storage]\ndatabase = "db/tickets.duckdb"\n'
        'key_file = "secret/key"\n',
        encoding="utf-8",
    )
    row = ticket_row(**{"Ticket-ID": EVIL_ID, "Bearbeiter": EVIL_WORKER,
                        "Team": "Leistung <b>1</b>"})  # fmt: skip
    export = tmp / "export.csv"
    export.write_text(csv_text([HEADER, [row.get(h, "") for h in HEADER]]), encoding="utf-8")
    [result] = load_files(load_config(config, environ={}), [export], meta={"built_by": "demo-data"})
    assert result.rows_loaded == 1
    yield from _serve(config, tmp)


@pytest.fixture(scope="module")
def open_proxy_server(access_db, tmp_path_factory):
    """Proxy mode, listening on every interface, without a shared secret: unsafe."""
    tmp = tmp_path_factory.mktemp("open-proxy")
    yield from _serve(_proxy_config(access_db, "open-proxy"), tmp, address="0.0.0.0")


@pytest.fixture(scope="module")
def secret_proxy_server(access_db, tmp_path_factory):
    """Proxy mode on every interface, with the proxy's shared secret required."""
    tmp = tmp_path_factory.mktemp("secret-proxy")
    secret = access_db.parent / "proxy-secret"
    secret.write_text(PROXY_SECRET + "\n", encoding="utf-8")
    extra = f'proxy_secret_file = "{secret}"'
    yield from _serve(_proxy_config(access_db, "secret-proxy", extra), tmp, address="0.0.0.0")


def _page_with_header(browser, login: str | None, **more: str):
    headers = ({"X-Remote-User": login} if login else {}) | more
    context = browser.new_context(
        viewport={"width": 1366, "height": 768}, extra_http_headers=headers
    )
    page = context.new_page()
    page.set_default_timeout(60_000)
    return context, page


def test_a_team_leader_signed_in_by_the_proxy_header_sees_only_their_team(proxy_server, browser):
    from dashboard.access.viewer import PAGES as ROLE_PAGES
    from tests.conftest import access_workers

    others = [w for t, names in access_workers().items() if t != "Leistung Nord" for w in names]
    titles = {
        "uebersicht": "Übersicht",
        "teams": "Teams",
        "mitarbeitende": "Mitarbeitende",
        "wiedervorlage": "Wiedervorlage",
        "regelverstoesse": "Regelverstöße",
        "wiederholungen": "Wiederholte",
        "stichproben": "Stichproben",
        "monatsbericht": "Monatsbericht",
        "ticket": "Ticket",
    }
    context, page = _page_with_header(browser, "tl.nord@jc.example")
    try:
        for stem in ROLE_PAGES["teamleitung"]:
            page.goto(f"{proxy_server}/{stem}")
            page.get_by_role("heading", name=re.compile(titles[stem])).first.wait_for()
            page.wait_for_function(
                "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')",
                timeout=60_000,
            )
            # the whole DOM, including table cells drawn on the canvas grid
            text = page.content()
            assert "Tom Lehmann (Teamleitung)" in text
            assert not [w for w in others if w in text], stem
        # the team leader's own people are there (the page shows names, not nothing)
        page.goto(f"{proxy_server}/mitarbeitende")
        page.get_by_text("Nordberg Anja").first.wait_for(state="attached")
        # Daten is not this role's page: the URL falls back to the default page
        page.goto(f"{proxy_server}/daten")
        page.get_by_role("heading", name="Übersicht").first.wait_for()
    finally:
        context.close()


@pytest.mark.parametrize(
    ("login", "message"),
    [(None, "Keine Anmeldung erkannt"), ("stranger@jc.example", "keine Freigabe")],
)
def test_without_a_known_proxy_user_there_is_no_data(proxy_server, browser, login, message):
    context, page = _page_with_header(browser, login)
    try:
        page.goto(proxy_server)
        page.get_by_text(message).first.wait_for()
        assert "Nordberg" not in page.inner_text("body")
    finally:
        context.close()


def test_a_header_sent_straight_to_an_open_port_is_not_believed(open_proxy_server, browser):
    # What an outsider does: talk to Streamlit's port directly, naming themselves admin.
    context, page = _page_with_header(browser, "admin@jc.example")
    try:
        page.goto(open_proxy_server)
        page.get_by_text("nicht sicher eingerichtet").first.wait_for()
        body = page.inner_text("body")
        assert "Ada Admin" not in body and "Zugriffsprotokoll" not in body
    finally:
        context.close()


@pytest.mark.parametrize(
    ("secret", "signed_in"),
    [(None, False), ("a-guessed-secret-0123456789", False), (PROXY_SECRET, True)],
)
def test_only_requests_with_the_proxy_secret_are_signed_in(
    secret_proxy_server, browser, secret, signed_in
):
    more = {"X-Proxy-Secret": secret} if secret else {}
    context, page = _page_with_header(browser, "tl.nord@jc.example", **more)
    try:
        page.goto(secret_proxy_server)
        if signed_in:
            page.get_by_text("Tom Lehmann (Teamleitung)").first.wait_for()
        else:
            page.get_by_text("nicht über das Anmeldeportal").first.wait_for()
            assert "Tom Lehmann" not in page.inner_text("body")
    finally:
        context.close()


def test_a_login_with_markdown_is_shown_as_text(proxy_server, browser):
    login = "[Hier klicken](https://evil.example/x) ![b](https://evil.example/p.png)"
    context, page = _page_with_header(browser, login)
    fetched = []
    page.on("request", lambda request: fetched.append(request.url))
    try:
        page.goto(proxy_server)
        page.get_by_text("keine Freigabe").first.wait_for()
        links = page.locator('a[href*="evil.example"]')
        assert links.count() == 0, links.first.evaluate("e => e.parentElement.outerHTML")
        assert page.locator('img[src*="evil.example"]').count() == 0
        assert not [url for url in fetched if "evil.example" in url]
        assert "[Hier klicken]" in page.inner_text("body")  # shown as typed
    finally:
        context.close()


@pytest.mark.parametrize(
    "ticket", [EVIL_ID, "[x](https://evil.example/u) ![i](https://evil.example/u.png)"]
)
def test_data_and_url_with_html_or_markdown_stay_text(crafted_server, page, ticket):
    from urllib.parse import quote, urlparse

    fetched = []
    page.on("request", lambda request: fetched.append(request.url))
    page.goto(f"{crafted_server}/ticket?id={quote(ticket)}")
    _settled(page, "Ticket")
    page.wait_for_timeout(1500)
    assert page.locator('a[href*="evil.example"]').count() == 0
    assert page.locator('img[src*="evil.example"]').count() == 0
    assert page.locator("main b").count() == 0  # the team's <b> is not markup either
    assert not [url for url in fetched if urlparse(url).hostname == "evil.example"]
    body = page.inner_text("body")
    if ticket == EVIL_ID:  # found: the ticket's data shown as typed
        assert "Leistung <b>1</b>" in body and "[Hier klicken]" in body
    else:  # not found: the ID from the URL shown as typed
        assert "Kein Ticket mit der ID" in body and "[x]" in body


def _url_has(page, text: str) -> None:
    page.wait_for_function("t => location.search.includes(t)", arg=text, timeout=30_000)


def _choose(page, label: str, option: str) -> None:
    """Pick an option of the sidebar selectbox labelled `label`."""
    box = page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").filter(has_text=label)
    choice = page.get_by_role("option", name=option, exact=True)
    for _ in range(3):  # a click during a rerun may not open the list: try again
        box.click()
        try:
            choice.wait_for(timeout=10_000)
            break
        except Exception:  # playwright's TimeoutError: open the list again
            page.keyboard.press("Escape")
    choice.click()


def test_filters_set_on_one_page_are_kept_through_the_navigation(server, page):
    from urllib.parse import parse_qs, urlparse

    page.goto(server)  # the default page lives at the root
    _settled(page, "Übersicht")
    # the date field is three segments (day, month, year); typing the day sets it
    day = page.get_by_test_id("stSidebar").get_by_role("spinbutton", name="day, Stichtag")
    day.click()
    page.keyboard.type("20")
    # the field takes the date when it loses the focus
    page.get_by_role("heading", name="Übersicht").first.click()
    _url_has(page, "stichtag=2026-11-20")
    _settled(page, "Übersicht")
    _choose(page, "Bereich", "Integration")
    _url_has(page, "bereich=Integration")
    _settled(page, "Übersicht")
    _choose(page, "Von Monat", "September 2026")
    _url_has(page, "von=2026-09")
    _settled(page, "Übersicht")
    for title in ("Wiedervorlage", "Teams", "Mitarbeitende"):
        nav = page.locator('[data-testid="stSidebarNav"]')
        nav.get_by_role("link", name=re.compile(rf"{title}$")).click()
        _settled(page, title)
        page.wait_for_function("t => location.pathname.endsWith(t)", arg=f"/{title.lower()}")
        query = parse_qs(urlparse(page.url).query)
        assert query["stichtag"] == ["2026-11-20"], title
        assert query["bereich"] == ["Integration"], title
        assert query["von"] == ["2026-09"], title
        sidebar = page.get_by_test_id("stSidebar")
        shown = [
            sidebar.get_by_role("spinbutton", name=f"{part}, Stichtag").get_attribute(
                "aria-valuenow"
            )
            for part in ("day", "month", "year")
        ]
        assert shown == ["20", "11", "2026"], title
        bereich = sidebar.get_by_test_id("stSelectbox").filter(has_text="Bereich")
        assert bereich.locator("input").input_value() == "Integration", title
        von = sidebar.get_by_test_id("stSelectbox").filter(has_text="Von Monat")
        assert von.locator("input").input_value() == "September 2026", title


@pytest.mark.parametrize("megabytes", [1, 51])
def test_an_upload_posted_straight_to_streamlit_is_refused(server, megabytes):
    """An outsider posting to Streamlit's upload endpoint without a page's XSRF token is
    refused, small or over the 50 MB limit (`server.maxUploadSize`, checked in
    tests/access/test_access.py); what reaches a session is the proxy's rule (docs/access.md)."""
    import http.client

    host, port = server.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        connection.request(
            "PUT", "/_stcore/upload_file/session/file", body=b"x" * (megabytes << 20),
            headers={"Content-Type": "application/octet-stream"},
        )  # fmt: skip
        status = connection.getresponse().status
    except (ConnectionError, http.client.HTTPException):
        status = None  # closed without reading the body: refused as well
    finally:
        connection.close()
    assert status in (None, 400, 403, 413)
