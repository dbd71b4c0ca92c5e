"""The typed configuration: defaults, TOML, environment, and refusals naming the key."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from dashboard.core.config import PROJECT_ROOT, ConfigError, load_config


def test_defaults():
    config = load_config(environ={})
    assert (config.deadline("Leistung"), config.deadline("Integration")) == (5, 2)
    assert config.calendar.holiday_state == "BB"
    assert config.calendar.closing_days == ("24.12.", "31.12.")
    assert config.rules.retention_months == 3
    assert config.rules.repeat_threshold == 2
    assert config.database == PROJECT_ROOT / "data" / "tickets.duckdb"
    assert config.app_database == PROJECT_ROOT / "data" / "tickets-app.duckdb"
    assert config.reference_date(today=dt.date(2026, 11, 27)) == dt.date(2026, 11, 27)
    assert not str(config.storage.key_file).startswith(str(PROJECT_ROOT))


def test_toml_file_and_relative_paths(tmp_path: Path):
    path = tmp_path / "conf" / "office.toml"
    path.parent.mkdir()
    path.write_text(
        """
[deadlines]
Leistung = 4
[calendar]
closing_days = ["24.12.", "02.01.2027"]
[rules]
reference_date = 2026-10-31
retention_months = 6
repeat_threshold = 3
[storage]
database = "db/office.duckdb"
[export.headers]
ticket_id = ["Vorgang"]
[export.values.area]
Leistung = ["LB"]
""",
        encoding="utf-8",
    )
    config = load_config(path, environ={})
    assert config.deadline("Leistung") == 4 and config.deadline("Integration") == 2
    assert config.reference_date() == dt.date(2026, 10, 31)
    assert config.rules.retention_months == 6 and config.rules.repeat_threshold == 3
    # relative to the configuration file, never to the working directory
    assert config.database == tmp_path / "conf" / "db" / "office.duckdb"
    assert config.export.header_names("ticket_id") == ["ticket-id", "vorgang"]
    assert config.export.value_map("area")["lb"] == "Leistung"


def test_environment_overrides(tmp_path: Path):
    path = tmp_path / "c.toml"
    path.write_text("[rules]\nrepeat_threshold = 4\n")
    config = load_config(
        environ={
            "TICKET_CONTROLLING_CONFIG": str(path),
            "TICKET_CONTROLLING_DB": str(tmp_path / "x.duckdb"),
        }
    )
    assert config.rules.repeat_threshold == 4
    assert config.database == tmp_path / "x.duckdb"
    assert config.app_database == tmp_path / "x-app.duckdb"


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ("[rules]\nretention_months = 0\n", "rules.retention_months"),
        ("[rules]\nretention_months = -2\n", "rules.retention_months"),
        ("[rules]\nrepeat_threshold = 0\n", "rules.repeat_threshold"),
        ("[rules]\nreference_date = 'morgen'\n", "rules.reference_date"),
        ("[deadlines]\nLeistung = 0\n", "deadlines.Leistung"),
        ("[deadlines]\nIntegration = 'zwei'\n", "deadlines.Integration"),
        ("[deadlines]\nSonstiges = 3\n", "deadlines.Sonstiges"),
        ("[calendar]\nholiday_state = 'XX'\n", "calendar.holiday_state"),
        ("[calendar]\nclosing_days = ['32.12.']\n", "calendar.closing_days"),
        ("[calendar]\nclosing_days = ['Heiligabend']\n", "calendar.closing_days"),
        ("[export.headers]\nticket = ['Nr']\n", "export.headers"),
        ("[export.values.area]\nSonstiges = ['S']\n", "export.values"),
        ("[unbekannt]\nx = 1\n", "unbekannt"),
        ("[records]\nurl = 'mysql://u@h/db'\n", "records.url"),
        ("[records]\nurl = 'postgresql://u@h'\n", "records.url"),  # no database
        # a password never stands in the URL (logs, process lists)
        ("[records]\nurl = 'postgresql://u:geheim@h/db'\n", "records.url"),
        ("[records]\nurl = 'postgresql://u@h/db?password=geheim'\n", "records.url"),
        ("[records]\npool = 3\n", "records.pool"),
        ("[mail]\nsender = 'kein-absender'\n", "mail.sender"),
        ("[mail]\nport = 0\n", "mail.port"),
        ("[mail]\nstarttls = 'vielleicht'\n", "mail.starttls"),
        ("[mail]\npasswort = 'x'\n", "mail.passwort"),
    ],
)
def test_bad_configuration_is_refused_naming_the_key(tmp_path: Path, toml: str, key: str):
    path = tmp_path / "bad.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    assert key in str(info.value)


def test_records_in_postgres(tmp_path: Path):
    path = tmp_path / "c.toml"
    path.write_text(
        "[records]\nurl = 'postgresql://dash@db.example:5433/records'\n"
        "password_file = 'secret/pg-password'\n"
    )
    config = load_config(path, environ={})
    assert config.records.url == "postgresql://dash@db.example:5433/records"
    assert config.records.password_file == tmp_path / "secret" / "pg-password"
    # the environment names another server (e.g. per replica); validated the same way
    env = {"TICKET_CONTROLLING_RECORDS_URL": "postgresql://dash@127.0.0.1/r2"}
    assert load_config(path, environ=env).records.url == "postgresql://dash@127.0.0.1/r2"
    with pytest.raises(ConfigError) as info:
        load_config(environ={"TICKET_CONTROLLING_RECORDS_URL": "postgresql://u:geheim@h/db"})
    assert "TICKET_CONTROLLING_RECORDS_URL" in str(info.value)
    assert "geheim" not in str(info.value)
    assert load_config(environ={}).records.url is None  # the DuckDB file by default


def test_unreadable_toml_and_missing_file(tmp_path: Path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[rules\n")
    with pytest.raises(ConfigError, match="kein gültiges TOML"):
        load_config(bad, environ={})
    with pytest.raises(ConfigError, match="nicht gefunden"):
        load_config(tmp_path / "missing.toml", environ={})


def test_mail_password_from_a_file_beside_the_config_or_the_environment(tmp_path: Path):
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "smtp").write_text("s3cret\nignored\n", encoding="utf-8")
    path = tmp_path / "config.toml"
    path.write_text(
        "[mail]\nhost = 'mail.jc.example'\nsender = 'bericht@jc.example'\n"
        "password_file = 'secret/smtp'\n"
    )
    mail = load_config(path, environ={}).mail
    assert (mail.host, mail.port, mail.starttls) == ("mail.jc.example", 587, True)
    assert mail.password_file == tmp_path / "secret" / "smtp"
    assert mail.password() == "s3cret"
    path.write_text("[mail]\npassword_env = 'SMTP_PW'\n")
    mail = load_config(path, environ={}).mail
    assert mail.password({"SMTP_PW": "aus-der-umgebung"}) == "aus-der-umgebung"
    assert mail.password({}) is None
