"""Files others could read or write: every file the dashboard creates is 0600, and a users
file that others may write is refused (whoever writes it could make themselves anyone)."""

from __future__ import annotations

import os
import stat

import pytest

from dashboard.access.users import UsersError, load_users
from dashboard.cli import main
from tests.conftest import ADMIN, ticket_row, users_file


@pytest.fixture
def open_umask():
    # The usual default of a shell: files readable by everyone unless the code says otherwise.
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_loads_records_and_backups_are_private(
    config, write_export, monkeypatch, tmp_path, open_umask
):
    monkeypatch.setenv("TICKET_CONTROLLING_DB", str(config.database))
    monkeypatch.setenv("TICKET_CONTROLLING_KEY_FILE", str(config.storage.key_file))
    assert main(["load", str(write_export([ticket_row()]))]) == 0  # audits into the records
    assert main(["backup", "--out", str(tmp_path / "backup")]) == 0
    created = [config.database, config.app_database, config.storage.key_file,
               *(tmp_path / "backup").iterdir()]  # fmt: skip
    assert len(created) >= 5
    for path in created:
        assert _mode(path) & 0o077 == 0, f"{path} has mode {_mode(path):o}"


@pytest.mark.parametrize(("mode", "refused"), [(0o600, False), (0o644, False), (0o664, True),
                                               (0o646, True), (0o666, True)])  # fmt: skip
def test_a_users_file_others_may_write_is_refused(tmp_path, mode, refused):
    path = users_file(tmp_path, ADMIN)
    path.chmod(mode)
    if refused:
        with pytest.raises(UsersError, match="für andere beschreibbar"):
            load_users(path)
    else:
        assert list(load_users(path)) == [ADMIN["login"]]
