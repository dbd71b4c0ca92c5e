"""A throw-away PostgreSQL cluster for the tests: initdb and pg_ctl on a free loopback port.

Debian's `postgresql` package (installed by .ci/run) puts the server programs under
/usr/lib/postgresql/VERSION/bin. initdb refuses to run as root, and CI runs as root: then the
cluster belongs to the unprivileged user `nobody`, in a folder of its own under /tmp. Clients
connect over TCP with a password (scram-sha-256), as the dashboard does in production.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

SUPERUSER = "postgres"
APP_USER = "dashboard"  # owns the test databases; no superuser, like a production role


def server_bindir() -> Path | None:
    """The folder with initdb and pg_ctl (newest installed version), None without them."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    return Path(candidates[-1]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Cluster:
    """One running PostgreSQL server; `database()` makes a fresh database for each test."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="records-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.password = secrets.token_urlsafe(16)  # the app user's
        self.password_file = self.root / "app-password"
        self.password_file.write_text(self.password + "\n", encoding="utf-8")
        self._superuser_password = secrets.token_urlsafe(16)
        self._count = 0
        # As root, the server runs as `nobody`; otherwise as whoever runs the tests.
        self._user = "nobody" if os.geteuid() == 0 else None

    def _run(self, *args: str) -> None:
        options = {}
        if self._user is not None:
            entry = pwd.getpwnam(self._user)
            options = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
        subprocess.run(
            [str(self.bindir / args[0]), *args[1:]],
            check=True,
            capture_output=True,
            cwd=self.root,
            env={**os.environ, "LC_ALL": "C", "HOME": str(self.root)},
            **options,
        )

    def start(self) -> None:
        """initdb, then start the server and wait until it accepts connections."""
        superuser_file = self.root / "superuser-password"
        superuser_file.write_text(self._superuser_password, encoding="utf-8")
        if self._user is not None:
            entry = pwd.getpwnam(self._user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
            os.chown(superuser_file, entry.pw_uid, entry.pw_gid)
        try:
            self._run(
                "initdb", "-D", str(self.data), "-U", SUPERUSER, "--pwfile", str(superuser_file),
                "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C",
                "--no-sync",
            )  # fmt: skip
            options = (
                f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -F "
                "-c max_connections=60 -c shared_buffers=16MB"
            )
            self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"),
                      "-o", options, "-w", "-t", "60", "start")  # fmt: skip
        except subprocess.CalledProcessError as exc:
            log = self.root / "log"
            raise RuntimeError(
                f"PostgreSQL did not start: {exc.stderr!r}\n"
                + (log.read_text(errors="replace") if log.exists() else "")
            ) from exc
        finally:
            superuser_file.unlink(missing_ok=True)
        self.admin(f"CREATE ROLE {APP_USER} LOGIN PASSWORD %s", self.password)

    def admin(self, sql: str, *params) -> None:
        """Run one statement as the superuser (autocommit: CREATE DATABASE needs it)."""
        import psycopg

        with psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user=SUPERUSER,
            password=self._superuser_password,
            dbname="postgres",
            autocommit=True,
        ) as con:
            if params:
                # Utility statements take no bound parameters: quote on the client.
                psycopg.ClientCursor(con).execute(sql, params)
            else:
                con.execute(sql)

    def database(self) -> str:
        """A new, empty database owned by the app user; its URL (without the password)."""
        self._count += 1
        name = f"records_{self._count}"
        self.admin(f"CREATE DATABASE {name} OWNER {APP_USER}")
        return f"postgresql://{APP_USER}@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        """Stop the server at once and remove its folder."""
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)
