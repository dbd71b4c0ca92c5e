"""A load killed with SIGKILL at random points leaves the old or the new state, complete.

The load runs as `ticket-controlling load` in a child process. To keep 20+ kills fast, a
small fork server imports the CLI once and forks one child per load: the child runs
`dashboard.cli.main(["load", ...])` exactly as the console script does, and the test kills
it after a seeded random delay spread over the whole load (key, lock, copy, reading,
writing, checkpoint, swap, the audit entry of the load).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from dashboard.core import records
from dashboard.core.config import load_config
from dashboard.core.storage import connect_readonly
from etl.demo import write_demo_export
from etl.load import load_files

KILLS = 20
SEED = 20261127
AS_OF = dt.date(2026, 11, 27)

SERVER = """
import os, sys
from dashboard.cli import main
devnull = os.open(os.devnull, os.O_WRONLY)
while line := sys.stdin.readline():
    pid = os.fork()
    if pid == 0:
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os._exit(main(["load", *line.rstrip("\\n").split("\\t")]))
    print(pid, flush=True)
    sys.stdin.readline()  # reaped only now: until then the pid cannot be reused
    print(os.waitpid(pid, 0)[1], flush=True)
"""


def _state(path: Path) -> tuple:
    """Everything a load writes, without its timestamps; opens the file as a reader would."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return tuple(
            con.execute(sql).fetchall()[0]
            for sql in (
                "SELECT count(*), md5(string_agg(concat_ws('|', load_id, kind, file_name, "
                "content_hash, rows_read, rows_loaded, rows_rejected, rows_duplicate, "
                "records_new, records_replaced), ';' ORDER BY load_id)) FROM load_log",
                "SELECT count(*), md5(string_agg(t::VARCHAR, ';' ORDER BY ticket_id)) "
                "FROM tickets t",
                "SELECT count(*), md5(string_agg(a::VARCHAR, ';' ORDER BY worker, date_from)) "
                "FROM absences a",
                "SELECT count(*), md5(string_agg(r::VARCHAR, ';' ORDER BY load_id, record)) "
                "FROM rejects r",
                "SELECT string_agg(key || '=' || value, ';' ORDER BY key) FROM meta",
            )
        )
    finally:
        con.close()


def _record(config, i: int) -> None:
    """One sample draw, conversation and audit entry, as the dashboard records them."""
    now = dt.datetime.now()
    with records.transaction(config) as con:
        con.execute(
            "INSERT INTO sample_draws (drawn_by, drawn_at, as_of, period_from, period_to, "
            "teams, method, amount, seed, population) VALUES (?, ?, ?, ?, ?, [], 'size', 5, ?, 9)",
            [f"TL{i}", now, AS_OF, AS_OF, AS_OF, i],
        )
        con.execute(
            "INSERT INTO conversations (worker, month, held_on, recorded_by, recorded_at) "
            "VALUES (?, ?, ?, 'TL', ?)",
            [f"W{i}", dt.date(2026, 10, 1), AS_OF, now],
        )
        records.audit(con, "TL", "Gespräch erfasst", str(i))


def _records(config) -> list[list]:
    return (
        records.query(
            config,
            "SELECT (SELECT list(seed ORDER BY seed) FROM sample_draws), "
            "(SELECT list(worker ORDER BY id) FROM conversations), "
            "(SELECT list(detail ORDER BY id) FROM audit_log WHERE who = 'TL')",
        )
        .map(list)
        .values.tolist()[0]
    )


def _environment(tmp_path):
    """Environment of a `ticket-controlling` child process in tmp_path, and its config."""
    env = {
        **os.environ,
        "TICKET_CONTROLLING_DB": str(tmp_path / "db" / "tickets.duckdb"),
        "TICKET_CONTROLLING_KEY_FILE": str(tmp_path / "key"),
    }
    env.pop("TICKET_CONTROLLING_CONFIG", None)
    return env, load_config(environ=env)


@pytest.mark.timeout(240)
def test_sigkill_during_load_leaves_old_or_new_state(tmp_path):
    env, config = _environment(tmp_path)
    old = write_demo_export(tmp_path / "old", tickets=1000, seed=1, until=AS_OF)
    new = write_demo_export(tmp_path / "new", tickets=6000, seed=2, until=AS_OF)
    load_files(config, [old.tickets], [old.absences])
    saved = tmp_path / "old.duckdb"
    shutil.copyfile(config.database, saved)
    old_state = _state(config.database)
    request = f"{new.tickets}\t--absences\t{new.absences}\n"

    def restore_old() -> None:
        shutil.copyfile(saved, tmp_path / "restore.tmp")
        os.replace(tmp_path / "restore.tmp", config.database)

    server = subprocess.Popen(
        [sys.executable, "-c", SERVER],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        bufsize=1,
    )
    try:
        # Undisturbed loads: how long one takes (the first one of a process is slower).
        durations = []
        for _ in range(2):
            restore_old()
            start = time.monotonic()
            server.stdin.write(request)
            server.stdin.flush()
            server.stdout.readline()
            server.stdin.write("wait\n")
            server.stdin.flush()
            assert server.stdout.readline().strip() == "0"
            durations.append(time.monotonic() - start)
        duration = min(durations)
        new_state = _state(config.database)
        assert new_state != old_state

        rng = random.Random(SEED)
        outcomes = []
        for i in range(KILLS):
            restore_old()
            _record(config, i)
            server.stdin.write(request)
            server.stdin.flush()
            pid = int(server.stdout.readline())
            time.sleep(rng.uniform(0, duration))
            os.kill(pid, signal.SIGKILL)  # a zombie if it finished: no harm
            server.stdin.write("reap\n")
            server.stdin.flush()
            status = int(server.stdout.readline())
            state = _state(config.database)
            assert state in (old_state, new_state), f"kill {i}: neither old nor new state"
            outcomes.append(
                ("killed" if os.WIFSIGNALED(status) else "finished", state == new_state)
            )
    finally:
        server.stdin.close()
        server.wait(timeout=60)

    # Nothing the dashboard recorded before any of the kills is gone (records are only added).
    assert _records(config) == [
        list(range(KILLS)),
        [f"W{n}" for n in range(KILLS)],
        [str(n) for n in range(KILLS)],
    ]
    killed = [new for how, new in outcomes if how == "killed"]
    assert len(killed) >= KILLS // 2, outcomes
    assert False in killed, "some kills must hit the load before its swap"
    print(f"undisturbed load {duration:.2f} s; (how, new state): {sorted(set(outcomes))}")

    # After all the kills, the next load works as usual and cleans up what they left.
    restore_old()
    load_files(config, [new.tickets], [new.absences])
    assert _state(config.database) == new_state
    leftovers = [p.name for p in config.database.parent.glob(".tickets.duckdb.*")]
    assert not leftovers, "the next load removes what killed loads left"
    con = connect_readonly(config)
    assert con.execute("SELECT count(*) FROM verdicts(?::DATE)", [AS_OF]).fetchall()[0][0] > 0
    con.close()


# --- a full disk or a read-only database path -------------------------------------------


@pytest.fixture
def loaded(tmp_path):
    """A database with one load, the environment to reach it and a second export."""
    env, config = _environment(tmp_path)
    first = write_demo_export(tmp_path / "first", tickets=500, seed=3, until=AS_OF)
    load_files(config, [first.tickets])
    second = write_demo_export(tmp_path / "second", tickets=3000, seed=4, until=AS_OF)
    return config, env, second.tickets


def _file_size_limit(limit: int):
    # A process may write no file beyond `limit` bytes: the disk is "full" for it alone.
    import resource

    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def _unchanged(config, before: bytes) -> None:
    assert config.database.read_bytes() == before
    assert not list(config.database.parent.glob(".tickets.duckdb.*")), "no temp file left"


def test_full_disk_during_cli_load_gives_one_german_line(loaded):
    config, env, export = loaded
    before = config.database.read_bytes()
    # The copy fits, the load makes it grow beyond the limit: DuckDB's write fails.
    limit = len(before) + 64 * 1024
    cli = Path(sys.executable).with_name("ticket-controlling")
    run = subprocess.run(
        [cli, "load", export],
        env=env,
        preexec_fn=_file_size_limit(limit),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert run.stderr.splitlines()[-1] == (
        f"Fehler: Die Datenbank {config.database} konnte nicht geschrieben werden: die Datei "
        "überschreitet die erlaubte Dateigröße. Der bisherige Stand ist unverändert."
    )
    _unchanged(config, before)


UPLOAD = """
import sys
from pathlib import Path
from dashboard.core.config import load_config
from dashboard.upload import UploadFailed, load_uploads
from dashboard.access.viewer import Viewer
admin = Viewer(login="admin", name="Admin", role="admin")
try:
    load_uploads(load_config(), [("export.csv", Path(sys.argv[1]).read_bytes())], who=admin)
except UploadFailed as exc:
    print(exc)
    sys.exit(1)
"""


def test_full_disk_during_upload_gives_a_german_message(loaded):
    config, env, export = loaded
    before = config.database.read_bytes()
    limit = max(len(before), export.stat().st_size) + 64 * 1024
    run = subprocess.run(
        [sys.executable, "-c", UPLOAD, export],
        env=env,
        preexec_fn=_file_size_limit(limit),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    assert run.stdout.strip().endswith(
        "die Datei überschreitet die erlaubte Dateigröße. Der bisherige Stand ist unverändert."
    )
    _unchanged(config, before)


def _can_mount() -> bool:
    if not shutil.which("unshare"):
        return False
    probe = "mount -t tmpfs -o size=1m tmpfs /mnt"
    return subprocess.run(["unshare", "-m", "sh", "-c", probe], capture_output=True).returncode == 0


@pytest.mark.skipif(not _can_mount(), reason="needs a private mount namespace (unshare -m)")
@pytest.mark.parametrize(
    ("mount", "message"),
    [
        (  # a small file system that fills up while the copy grows
            "mount -t tmpfs -o size={size} tmpfs {dir} && cp {db} {dir}/",
            "Fehler: Die Datenbank {dir}/tickets.duckdb konnte nicht geschrieben werden: kein "
            "Speicherplatz mehr frei. Der bisherige Stand ist unverändert.",
        ),
        (  # the database directory mounted read-only
            "mount -t tmpfs tmpfs {dir} && cp {db} {dir}/ && mount -o remount,ro {dir}",
            "Fehler: Das Datenverzeichnis {dir} ist nicht beschreibbar: das Dateisystem ist "
            "schreibgeschützt.",
        ),
    ],
    ids=["no-space", "read-only"],
)
def test_real_full_or_read_only_file_system(loaded, tmp_path, mount, message):
    config, env, export = loaded
    directory = tmp_path / "mnt"
    directory.mkdir()
    size = config.database.stat().st_size + 256 * 1024
    setup = mount.format(size=size, dir=directory, db=config.database)
    cli = Path(sys.executable).with_name("ticket-controlling")
    script = f'{setup} && "{cli}" load "{export}"; echo "exit $?"; cat {directory}/tickets.duckdb'
    run = subprocess.run(
        ["unshare", "-m", "sh", "-c", script],
        env={**env, "TICKET_CONTROLLING_DB": str(directory / "tickets.duckdb")},
        capture_output=True,
        timeout=120,
    )
    stderr = run.stderr.decode()
    assert "Traceback" not in stderr
    assert stderr.splitlines()[-1] == message.format(dir=directory)
    exit_line, _, database = run.stdout.partition(b"\n")
    assert exit_line == b"exit 1"
    assert database == config.database.read_bytes(), "the database in the mount is unchanged"


@pytest.mark.skipif(not _can_mount(), reason="needs a private mount namespace (unshare -m)")
def test_full_disk_under_the_records_gives_a_german_line_and_keeps_them(loaded, tmp_path):
    config, env, export = loaded
    _record(config, 0)  # the records file as it was before the disk filled up
    directory = tmp_path / "mnt"
    directory.mkdir()
    (tmp_path / "config.toml").write_text(f'[storage]\napp_database = "{directory}/app.duckdb"\n')
    cli = Path(sys.executable).with_name("ticket-controlling")
    # 4 MB: room for the records file (about 2.6 MB with its tables), the rest filled up.
    script = (
        f"mount -t tmpfs -o size=4m tmpfs {directory} && cp {config.app_database} "
        f"{directory}/app.duckdb && dd if=/dev/zero of={directory}/fill bs=64k count=64 "
        f'2>/dev/null; "{cli}" load "{export}"; cp {directory}/app.duckdb* {tmp_path}/db/'
    )
    run = subprocess.run(
        ["unshare", "-m", "sh", "-c", script],
        env={**env, "TICKET_CONTROLLING_CONFIG": str(tmp_path / "config.toml")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in run.stderr
    # The load itself went through; only recording it failed, with a German line.
    assert "(Abgleich stimmt)" in run.stdout
    assert (
        f"Die Aufzeichnungen {directory}/app.duckdb konnten nicht gespeichert werden: "
        "kein Speicherplatz mehr frei." in run.stderr.splitlines()[-1]
    )
    kept = config.model_copy(
        update={
            "storage": config.storage.model_copy(
                update={"app_database": tmp_path / "db" / "app.duckdb"}
            )
        }
    )
    assert _records(kept) == [[0], ["W0"], ["0"]], "the earlier records are still there"


def test_spill_directory_of_a_killed_big_load_is_removed(loaded, tmp_path):
    # A load beyond its memory limit spills to DuckDB's temp directory beside its copy
    # (`<copy>.tmp/`); killed, it leaves that directory, which must not block later loads.
    config, _, export = loaded
    spill = config.database.parent / f".{config.database.name}.k1ll3d.tmp.tmp"
    spill.mkdir()
    (spill / "duckdb_temp_storage-0.tmp").write_bytes(b"\0" * 4096)
    (config.database.parent / f".{config.database.name}.k1ll3d.tmp").write_bytes(b"half")

    [result] = load_files(config, [export])

    assert result.load_id is not None and result.reconciled
    assert not list(config.database.parent.glob(".tickets.duckdb.*"))
