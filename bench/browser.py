"""Speed as felt by one person: the dashboard in a real browser on the N-ticket database.

`bench/run.py browser` calls `measure`: `streamlit run` on a free loopback port (sign-in by
the proxy header, a team leader of every team), Debian's Chromium through Playwright. A page
has settled when its title is shown and the app's `data-test-script-state` is `notRunning`.

  first page (new server)   opening the dashboard right after the server started
  first page (new session)  opening it again in a new browser session, server warm
  switch to PAGE            clicking PAGE in the navigation until it has settled; the first
                            round visits each page once (its figures computed), the
                            following rounds are the warm switches that count
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]  # fmt: skip
# Title of each page of a team leader, in the navigation's order.
PAGES = ("Übersicht", "Teams", "Mitarbeitende", "Wiedervorlage",
         "Wiederholte Fristüberschreitungen", "Stichproben", "Monatsbericht", "Ticket")  # fmt: skip
LOGIN = "tl.alle@bench.example"
SETTLED = """title => {
    const app = document.querySelector('[data-test-script-state]');
    const heading = [...document.querySelectorAll('h1')].some(h => h.innerText.trim() === title);
    return app && app.getAttribute('data-test-script-state') === 'notRunning' && heading;
}"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _config(work: Path, database: Path, teams: list[str], as_of: str) -> Path:
    users = work / "browser-users.toml"
    quoted = ", ".join(f'"{t}"' for t in teams)
    users.write_text(
        f'[[user]]\nlogin = "{LOGIN}"\nname = "Teamleitung Alle"\nrole = "teamleitung"\n'
        f"teams = [{quoted}]\n",
        encoding="utf-8",
    )
    users.chmod(0o600)
    config = work / "browser.toml"
    config.write_text(
        f'[rules]\nreference_date = {as_of}\n[storage]\ndatabase = "{database}"\n'
        f'app_database = "{work / "browser-app.duckdb"}"\nkey_file = "{work / "key"}"\n'
        f'[auth]\nmode = "proxy"\nproxy_header = "X-Remote-User"\nusers_file = "{users}"\n',
        encoding="utf-8",
    )
    return config


def _serve(config: Path, log: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = os.environ | {"TICKET_CONTROLLING_CONFIG": str(config)}
    for name in (
        "TICKET_CONTROLLING_DB",
        "TICKET_CONTROLLING_KEY_FILE",
        "TICKET_CONTROLLING_USERS",
    ):
        env.pop(name, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard" / "app.py"),
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, cwd=ROOT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return process, url
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("streamlit did not start: " + log.read_text()[-2000:])


def _open(browser, url: str) -> tuple[object, float]:
    """A new browser session on the dashboard: (page, seconds until the first page settled)."""
    context = browser.new_context(
        viewport={"width": 1366, "height": 768}, extra_http_headers={"X-Remote-User": LOGIN}
    )
    page = context.new_page()
    page.set_default_timeout(120_000)
    start = time.perf_counter()
    page.goto(url)
    page.wait_for_function(SETTLED, arg=PAGES[0], polling="raf")
    return page, time.perf_counter() - start


def _switch(page, title: str) -> float:
    """Seconds from the click on the page's link until it has settled."""
    link = page.locator('[data-testid="stSidebarNav"]').get_by_role(
        "link", name=re.compile(rf"{title}$")
    )
    start = time.perf_counter()
    link.click()
    page.wait_for_function(SETTLED, arg=title, polling="raf")
    seconds = time.perf_counter() - start
    if page.locator('[data-testid="stException"]').count():
        raise RuntimeError(f"{title}: the page shows an exception")
    return seconds


def measure(work: Path, database: Path, teams: list[str], as_of: str, rounds: int) -> dict:
    """First page and warm page switches of one person, in seconds (medians, p95)."""
    from playwright.sync_api import sync_playwright

    config = _config(work, database, teams, as_of)
    process, url = _serve(config, work / "browser-streamlit.log")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            first_page, first_new_server = _open(browser, url)
            first_page.context.close()
            page, first_new_session = _open(browser, url)
            switches: dict[str, list[float]] = {title: [] for title in PAGES}
            first_visit: dict[str, float] = {}
            for n in range(rounds + 1):
                # Each round ends on the first page, so every switch changes the page.
                for title in (*PAGES[1:], PAGES[0]):
                    seconds = _switch(page, title)
                    if n == 0:
                        first_visit[title] = seconds
                    else:
                        switches[title].append(seconds)
            browser.close()
    finally:
        process.terminate()
        process.wait(timeout=30)
    every = [s for times in switches.values() for s in times]
    figures = {
        "first page, new server (s)": round(first_new_server, 2),
        "first page, new session (s)": round(first_new_session, 2),
        "warm switches": len(every),
        "warm switch p95, every page (s)": round(
            statistics.quantiles(every, n=100, method="inclusive")[94], 3
        ),
    }
    for title in PAGES:
        figures[f"{title}: first visit / warm median (s)"] = (
            f"{first_visit[title]:.3f} / {statistics.median(switches[title]):.3f}"
        )
    return figures
