"""Two dashboard replicas behind Debian's nginx, their records in PostgreSQL.

What docs/operations.md ("Replicas behind a proxy") sets up, on this machine: two
`streamlit run` processes on loopback ports, nginx in front (HTTP basic sign-in standing in
for the office's single sign-on, the login passed on in the proxy header), sessions pinned to
a replica by a cookie nginx sets, Streamlit's websocket proxied. A sample drawn in a browser
session on one replica is seen by a session on the other; a load swaps the ticket file and
both replicas show the new data without an error.

Needs Debian's chromium, nginx and postgresql (`.ci/run` installs them when missing).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import re
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest

from dashboard import cli
from dashboard.core import records
from dashboard.core.config import load_config
from etl.demo import write_demo_export
from etl.load import load_files
from etl.sources import csv_text
from tests.conftest import HEADER, ticket_row, users_file
from tests.pages.test_browser import CHROMIUM, CHROMIUM_ARGS, _free_port, _serve, _settled

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed"),
    pytest.mark.skipif(
        not Path(NGINX).exists(), reason="Debian nginx not installed (apt-get install nginx)"
    ),
]

AS_OF = dt.date(2026, 11, 27)
PROXY_SECRET = "replica-proxy-secret-0123456789"
USERS = {  # login: (name, password of the basic sign-in)
    "carla@jc.example": ("Carla Anders", "passwort-carla"),
    "bernd@jc.example": ("Bernd Berg", "passwort-bernd"),
}
NEW_TICKET = "T-NACH-DER-NACHT"

# The replica part of docs/operations.md's nginx example, on the test's ports and files: the
# same maps, upstreams and locations (no TLS, so the cookie is not `Secure` here), plus a
# header naming the replica that answered, for the test to check the pinning.
NGINX_CONF = """
worker_processes 1;
{user}
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log {tmp}/access.log;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;

    # A new visitor gets a replica at random; the cookie keeps every later request (and the
    # websocket) of that browser on it.
    split_clients "${{remote_addr}}${{request_id}}" $tc_pick {{
        50% r1;
        *   r2;
    }}
    map $cookie_tc_replica $tc_replica {{
        r1      r1;
        r2      r2;
        default $tc_pick;      # no cookie yet, or one naming no replica
    }}
    map $cookie_tc_replica $tc_set_cookie {{
        r1      "";
        r2      "";
        default "tc_replica=$tc_pick; Path=/; HttpOnly; SameSite=Lax";
    }}
    # Each replica has the other as backup: a stopped replica's sessions move over.
    upstream dashboard_r1 {{ server 127.0.0.1:{port1}; server 127.0.0.1:{port2} backup; }}
    upstream dashboard_r2 {{ server 127.0.0.1:{port2}; server 127.0.0.1:{port1} backup; }}
    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ""      close;
    }}
    map $remote_user $may_upload {{
        default 0;             # nobody here is the administration
    }}

    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 50m;
        auth_basic "Ticket-Controlling";
        auth_basic_user_file {tmp}/htpasswd;

        # Every proxy_set_header at this one level: nginx drops the inherited ones in a
        # block that sets any of its own. Whatever the browser sent under these names is
        # replaced, never passed on.
        proxy_set_header X-Remote-User $remote_user;
        proxy_set_header X-Proxy-Secret "{secret}";
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        # Streamlit's websocket (/_stcore/stream): upgraded, and kept open while idle.
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;
        proxy_read_timeout 1h;

        location / {{
            proxy_pass http://dashboard_$tc_replica;
            add_header Set-Cookie $tc_set_cookie always;
            add_header X-Replica $upstream_addr always;
        }}
        location /_stcore/upload_file/ {{
            if ($may_upload = 0) {{ return 403; }}
            proxy_pass http://dashboard_$tc_replica;
        }}
    }}
}}
"""


def _write_setup(tmp: Path, pg_url: str, pg_password_file: Path) -> Path:
    """Database, users, secrets and the configuration every replica and the load share."""
    users_file(
        tmp,
        *({"login": login, "name": name, "role": "controlling"}
          for login, (name, _) in USERS.items()),
    )  # fmt: skip
    (tmp / "proxy-secret").write_text(PROXY_SECRET + "\n", encoding="utf-8")
    config_path = tmp / "config.toml"
    config_path.write_text(
        f"[rules]\nreference_date = {AS_OF.isoformat()}\n"
        '[storage]\ndatabase = "db/tickets.duckdb"\nkey_file = "secret/key"\n'
        '[auth]\nmode = "proxy"\nusers_file = "users.toml"\nproxy_header = "X-Remote-User"\n'
        'proxy_secret_file = "proxy-secret"\n'
        f'[records]\nurl = "{pg_url}"\npassword_file = "{pg_password_file}"\n',
        encoding="utf-8",
    )
    config = load_config(config_path, environ={})
    files = write_demo_export(tmp / "export", tickets=1500, seed=11, until=AS_OF)
    results = load_files(config, [files.tickets], [files.absences])
    assert all(r.reconciled and not r.refused for r in results)
    (tmp / "htpasswd").write_text(
        "".join(
            f"{login}:{{SHA}}{base64.b64encode(hashlib.sha1(pw.encode()).digest()).decode()}\n"
            for login, (_, pw) in USERS.items()
        ),
        encoding="utf-8",
    )
    return config_path


@contextlib.contextmanager
def _nginx(tmp: Path, port: int, port1: int, port2: int):
    import os

    conf = tmp / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(
            tmp=tmp, port=port, port1=port1, port2=port2, secret=PROXY_SECRET,
            # As root, nginx's workers would run as nobody, who cannot read the test's files.
            user="user root;" if os.geteuid() == 0 else "",
        ),
        encoding="utf-8",
    )  # fmt: skip
    check = subprocess.run(
        [NGINX, "-t", "-p", str(tmp), "-e", str(tmp / "error.log"), "-c", str(conf)],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr
    process = subprocess.Popen(
        [NGINX, "-p", str(tmp), "-e", str(tmp / "error.log"), "-c", str(conf),
         "-g", "daemon off;"],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
        except urllib.error.HTTPError:  # 401: nginx answers
            break
        except OSError:
            time.sleep(0.2)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture(scope="module")
def replicas(postgres, tmp_path_factory):
    """Two replicas and nginx; the URL of the proxy, the replicas' ports and the config."""
    tmp = tmp_path_factory.mktemp("replicas")
    config_path = _write_setup(tmp, postgres.database(), postgres.password_file)
    with contextlib.ExitStack() as stack:
        urls = []
        for n in (1, 2):
            (tmp / f"r{n}").mkdir()
            urls.append(stack.enter_context(contextlib.contextmanager(_serve)(
                config_path, tmp / f"r{n}")))  # fmt: skip
        ports = [int(url.rsplit(":", 1)[1]) for url in urls]
        proxy = stack.enter_context(_nginx(tmp, _free_port(), *ports))
        yield SimpleNamespace(
            url=proxy, ports=ports, config_path=config_path, tmp=tmp,
            config=load_config(config_path, environ={}),
        )  # fmt: skip


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _context(browser, replicas, login: str, replica: str | None, **headers: str):
    """A browser session signed in at the proxy as `login`, pinned to `replica` if given."""
    context = browser.new_context(
        viewport={"width": 1366, "height": 768},
        http_credentials={"username": login, "password": USERS[login][1]},
        extra_http_headers=headers,
    )
    if replica is not None:
        context.add_cookies([{"name": "tc_replica", "value": replica, "url": replicas.url}])
    return context


def _served_by(context, replicas) -> int:
    """The port of the replica that answers this session's requests (nginx's X-Replica)."""
    response = context.request.get(f"{replicas.url}/_stcore/health")
    assert response.ok, response.status
    return int(response.headers["x-replica"].rsplit(":", 1)[1])


def _cookie(context) -> str | None:
    return {c["name"]: c["value"] for c in context.cookies()}.get("tc_replica")


def test_the_proxy_signs_in_and_pins_each_browser_to_one_replica(browser, replicas):
    # Without the proxy's sign-in nothing reaches a replica.
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{replicas.url}/_stcore/health", timeout=5)
    assert refused.value.code == 401
    # A first visit gets a cookie naming a replica, and stays there.
    context = _context(browser, replicas, "carla@jc.example", None)
    try:
        assert context.request.get(f"{replicas.url}/_stcore/health").ok
        replica = _cookie(context)
        assert replica in ("r1", "r2")
        expected = replicas.ports[int(replica[1]) - 1]
        assert {_served_by(context, replicas) for _ in range(6)} == {expected}
        assert _cookie(context) == replica
    finally:
        context.close()
    # A cookie naming a replica pins deterministically; one naming none is replaced.
    for replica, port in zip(("r1", "r2"), replicas.ports, strict=True):
        context = _context(browser, replicas, "carla@jc.example", replica)
        try:
            assert {_served_by(context, replicas) for _ in range(3)} == {port}
        finally:
            context.close()
    context = _context(browser, replicas, "carla@jc.example", "r9")
    try:
        assert context.request.get(f"{replicas.url}/_stcore/health").ok
        assert _cookie(context) in ("r1", "r2")
        # Uploads are for the administration only: refused at the proxy for anyone else.
        upload = context.request.put(
            f"{replicas.url}/_stcore/upload_file/session/file", multipart={"file": "x"}
        )
        assert upload.status == 403 and "nginx" in upload.text()  # never reached Streamlit
    finally:
        context.close()


def _open(page, url: str, title: str) -> None:
    page.goto(url)
    _settled(page, title)


def test_a_sample_drawn_on_one_replica_is_seen_on_the_other_and_a_load_reaches_both(
    browser, replicas
):
    # Carla's browser also claims to be Bernd: nginx replaces the header with its sign-in.
    carla = _context(
        browser, replicas, "carla@jc.example", "r1",
        **{"X-Remote-User": "bernd@jc.example", "X-Proxy-Secret": "geraten-0123456789"},
    )  # fmt: skip
    bernd = _context(browser, replicas, "bernd@jc.example", "r2")
    try:
        assert _served_by(carla, replicas) == replicas.ports[0]
        assert _served_by(bernd, replicas) == replicas.ports[1]
        page_a, page_b = carla.new_page(), bernd.new_page()
        for page in (page_a, page_b):
            page.set_default_timeout(60_000)

        # Carla draws a sample on replica 1 ...
        _open(page_a, f"{replicas.url}/stichproben", "Stichproben")
        assert "Carla Anders" in page_a.inner_text("body")  # signed in by the proxy header
        assert "Bernd Berg" not in page_a.inner_text("body")
        page_a.get_by_role("button", name="Stichprobe ziehen").click()
        page_a.get_by_text("geprüft 0 von").first.wait_for()
        drawn = records.query(replicas.config, "SELECT drawn_by FROM sample_draws")
        assert drawn["drawn_by"].tolist() == ["Carla Anders (carla@jc.example)"]

        # ... and Bernd, on replica 2, sees it in the history.
        _open(page_b, f"{replicas.url}/stichproben", "Stichproben")
        assert "Bernd Berg" in page_b.inner_text("body")
        page_b.get_by_text(re.compile(r"Gezogen am .* von Carla Anders")).first.wait_for()

        # The nightly load swaps the ticket file while both sessions are open.
        for page in (page_a, page_b):
            _open(page, f"{replicas.url}/ticket?id={NEW_TICKET}", "Ticket")
            page.get_by_text("Kein Ticket mit der ID").first.wait_for()
        export = replicas.tmp / "nacht.csv"
        row = ticket_row(**{"Ticket-ID": NEW_TICKET, "Eingang": "02.11.2026 09:00"})
        export.write_bytes(csv_text([HEADER, [row.get(h, "") for h in HEADER]]).encode())
        assert cli.main(["load", "--config", str(replicas.config_path), str(export)]) == 0

        # Both replicas switch to the new version (after their background warm-up), and
        # no request on the way shows an error.
        for page in (page_a, page_b):
            deadline = time.monotonic() + 90
            while True:
                _open(page, f"{replicas.url}/ticket?id={NEW_TICKET}", "Ticket")
                if page.get_by_text(f"{NEW_TICKET} · Leistung").count():
                    break
                assert time.monotonic() < deadline, "the replica never showed the new load"
                time.sleep(1)
    finally:
        carla.close()
        bernd.close()

    # One audit chain for both replicas and the load: complete and unbroken.
    check = records.verify_audit(replicas.config)
    assert check.intact, check
    log = records.query(replicas.config, "SELECT who, action FROM audit_log ORDER BY seq")
    whos = " ".join(log["who"])
    assert "Carla Anders" in whos and "Bernd Berg" in whos
    assert "Stichprobe gezogen" in set(log["action"]) and "Ladevorgang" in set(log["action"])
    for n in (1, 2):
        assert "Traceback" not in (replicas.tmp / f"r{n}" / "streamlit.log").read_text()
