"""The one typed configuration: defaults, TOML file, environment overrides."""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
import urllib.parse
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ENV_CONFIG = "TICKET_CONTROLLING_CONFIG"
ENV_DB = "TICKET_CONTROLLING_DB"
ENV_KEY_FILE = "TICKET_CONTROLLING_KEY_FILE"
ENV_USERS = "TICKET_CONTROLLING_USERS"
ENV_RECORDS_URL = "TICKET_CONTROLLING_RECORDS_URL"

AREAS = ("Leistung", "Integration")

# Export fields in their canonical order; the values are the default header names
# (EXPORT_FORMAT.md). Required fields must be present in every ticket export.
DEFAULT_HEADERS: dict[str, str] = {
    "ticket_id": "Ticket-ID",
    "area": "Bereich",
    "team": "Team",
    "worker": "Bearbeiter",
    "received": "Eingang",
    "completed": "Erledigt",
    "channel": "Eingangskanal",
    "concern": "Anliegen",
    "customer": "Kundennummer",
    "notified": "Kunde informiert",
    "commitment": "Zusage bis",
    "verbis_note": "VerBIS-Vermerk",
    "called_back": "Rückruf erfolgt",
    "tl_informed": "TL informiert",
    "walkin_note": "Vermerk an TL",
}
REQUIRED_FIELDS = ("ticket_id", "area", "team", "worker", "received")
ABSENCE_HEADERS: dict[str, str] = {
    "worker": "Bearbeiter",
    "date_from": "Von",
    "date_to": "Bis",
    "substitute": "Vertretung",
}
REQUIRED_ABSENCE_FIELDS = ("worker", "date_from", "date_to")

# Canonical value -> accepted spellings (matched case-insensitively, trimmed).
DEFAULT_VALUES: dict[str, dict[str, list[str]]] = {
    "area": {"Leistung": ["Leistung"], "Integration": ["Integration"]},
    "channel": {"Service-Center": ["Service-Center"], "Vorsprache": ["Vorsprache"]},
    "concern": {"Allgemein": ["Allgemein"], "Rückruf": ["Rückruf"], "Termin": ["Termin"]},
    "verbis_note": {"ja": ["ja"], "nein": ["nein"]},
}
# The value an empty or absent optional field stands for.
VALUE_DEFAULTS = {"channel": "Service-Center", "concern": "Allgemein", "verbis_note": "nein"}

_CLOSING_DAY = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})?$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Deadlines(_Strict):
    """Working days allowed per Bereich (A2, B1)."""

    Leistung: Annotated[int, Field(ge=1, le=60)] = 5
    Integration: Annotated[int, Field(ge=1, le=60)] = 2


class CalendarConfig(_Strict):
    """Holiday state and closing days that make up the working-day calendar."""

    holiday_state: str = "BB"
    # "DD.MM." repeats every year, "DD.MM.YYYY" is a single date.
    closing_days: tuple[str, ...] = ("24.12.", "31.12.")

    @field_validator("holiday_state")
    @classmethod
    def _known_state(cls, value: str) -> str:
        import holidays

        if value not in holidays.Germany.subdivisions:
            raise ValueError(f"unbekanntes Bundesland {value!r}")
        return value

    @field_validator("closing_days")
    @classmethod
    def _valid_closing_days(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            match = _CLOSING_DAY.match(item.strip())
            if not match:
                raise ValueError(f"{item!r} ist weder 'TT.MM.' noch 'TT.MM.JJJJ'")
            day, month, year = match.groups()
            try:
                dt.date(int(year or 2000), int(month), int(day))  # 2000: leap year
            except ValueError as exc:
                raise ValueError(f"{item!r} ist kein gültiges Datum") from exc
        return value


class RulesConfig(_Strict):
    """Reference date, validity, retention and the repeat cases (A10)."""

    reference_date: dt.date | Literal["today"] = "today"
    # The instruction is valid from this date: tickets received earlier are not judged.
    valid_from: dt.date = dt.date(2012, 3, 28)
    retention_months: int = 3
    repeat_threshold: Annotated[int, Field(ge=1)] = 2
    # A10 stands under "A) Bereich Leistung": only these Bereiche count towards repeat cases.
    repeat_areas: tuple[Literal[AREAS], ...] = ("Leistung",)  # type: ignore[valid-type]

    @field_validator("repeat_areas")
    @classmethod
    def _some_area(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("mindestens ein Bereich (A10 gilt für Leistung)")
        return tuple(dict.fromkeys(value))

    @field_validator("retention_months")
    @classmethod
    def _retention_at_least_one(cls, value: int) -> int:
        if value < 1:
            raise ValueError("muss mindestens 1 Monat sein (A9)")
        return value


class RetentionConfig(_Strict):
    """How long the dashboard's own records are kept (`purge`); unset: rules.retention_months."""

    conversations_months: Annotated[int, Field(ge=1)] | None = None
    samples_months: Annotated[int, Field(ge=1)] | None = None
    # The access log is the staff council's evidence: kept longer than the data it records.
    audit_months: Annotated[int, Field(ge=1)] = 24
    backups_months: Annotated[int, Field(ge=1)] | None = None
    backup_dir: Path | None = None  # where `backup --out` writes; purge removes old copies


class StorageConfig(_Strict):
    """Where the databases and the pseudonym key live."""

    database: Path = PROJECT_ROOT / "data" / "tickets.duckdb"
    app_database: Path | None = None
    key_file: Path = Path("~/.local/share/ticket-controlling/pseudonym.key")


class RecordsConfig(_Strict):
    """Where the dashboard's own records live: PostgreSQL when `url` is set, else DuckDB."""

    # "postgresql://user@host:5432/dbname": shared by every replica of the dashboard. Unset:
    # the embedded DuckDB file `storage.app_database` (one process writes at a time).
    url: str | None = None
    # The password, from a file outside the repository; without it libpq's PGPASSWORD or
    # ~/.pgpass. Never in the URL: a URL ends up in logs and process lists.
    password_file: Path | None = None

    @field_validator("url")
    @classmethod
    def _postgres_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urllib.parse.urlsplit(value)
        if parts.scheme not in ("postgresql", "postgres") or not parts.path.strip("/"):
            raise ValueError("erwartet postgresql://benutzer@host:port/datenbank")
        query = urllib.parse.parse_qs(parts.query)
        if parts.password is not None or "password" in query:
            raise ValueError(
                "kein Passwort in der URL; records.password_file oder PGPASSWORD verwenden"
            )
        return value


class ExportConfig(_Strict):
    """Header and value mapping of the ticket and absence exports."""

    headers: dict[str, list[str]] = Field(default_factory=dict)
    absence_headers: dict[str, list[str]] = Field(default_factory=dict)
    values: dict[str, dict[str, list[str]]] = Field(default_factory=dict)

    @field_validator("headers")
    @classmethod
    def _known_fields(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        return _check_keys(value, DEFAULT_HEADERS)

    @field_validator("absence_headers")
    @classmethod
    def _known_absence_fields(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        return _check_keys(value, ABSENCE_HEADERS)

    @field_validator("values")
    @classmethod
    def _known_values(cls, value: dict[str, dict[str, list[str]]]) -> dict:
        _check_keys(value, DEFAULT_VALUES)
        for field, mapping in value.items():
            _check_keys(mapping, DEFAULT_VALUES[field])
        return value

    def header_names(self, field: str, *, absence: bool = False) -> list[str]:
        """Accepted header names of a field, default first (lower-cased, trimmed)."""
        defaults = ABSENCE_HEADERS if absence else DEFAULT_HEADERS
        extra = (self.absence_headers if absence else self.headers).get(field, [])
        return [h.strip().lower() for h in [defaults[field], *extra]]

    def value_map(self, field: str) -> dict[str, str]:
        """Accepted spelling (lower-cased, trimmed) -> canonical value of a coded field."""
        mapping: dict[str, str] = {}
        for canonical, spellings in DEFAULT_VALUES[field].items():
            for spelling in [*spellings, *self.values.get(field, {}).get(canonical, [])]:
                mapping[spelling.strip().lower()] = canonical
        return mapping


class AuthConfig(_Strict):
    """How people sign in and where their roles are configured (docs/access.md)."""

    # demo: the visitor picks a demo user (only on a database built by `demo-data`);
    # proxy: a trusted reverse proxy names the user in `proxy_header`;
    # oidc: Streamlit's built-in sign-in (`st.login`, configured in secrets.toml).
    mode: Literal["demo", "proxy", "oidc"] = "demo"
    users_file: Path | None = None  # TOML list of users with role and teams
    proxy_header: str = "X-Remote-User"
    # A secret the proxy adds to every request (header below), from a file outside the
    # repository: required unless Streamlit listens on a loopback address only.
    proxy_secret_header: str = "X-Proxy-Secret"
    proxy_secret_file: Path | None = None
    # Shown to a signed-in person without a role: whom to ask for access.
    contact: str = "die Teamleitung Controlling"

    @field_validator("proxy_header", "proxy_secret_header")
    @classmethod
    def _header_name(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9-]+", value):
            raise ValueError(f"{value!r} ist kein gültiger HTTP-Headername")
        return value


class MailConfig(_Strict):
    """The SMTP server the monthly reports are sent through (`send-reports`)."""

    host: str = "localhost"
    port: Annotated[int, Field(ge=1, le=65535)] = 587
    starttls: bool = True  # upgrade the connection with STARTTLS before signing in
    ca_file: Path | None = None  # CA certificates to trust (an office CA); none: the system's
    user: str | None = None  # sign in with user and password; none: send without
    password_file: Path | None = None  # the password, first line of a file outside the repo
    password_env: str = "TICKET_CONTROLLING_SMTP_PASSWORD"  # or from this variable
    sender: str | None = None  # From: address; required for sending
    timeout_seconds: Annotated[float, Field(gt=0, le=600)] = 30.0

    @field_validator("sender")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+", value.strip()):
            raise ValueError(f"{value!r} ist keine E-Mail-Adresse")
        return value

    def password(self, environ: dict | None = None) -> str | None:
        """The SMTP password: from `password_file`, else from the variable `password_env`."""
        if self.password_file is not None:
            return self.password_file.read_text(encoding="utf-8").splitlines()[0].strip()
        env = os.environ if environ is None else environ
        return env.get(self.password_env) or None


def _check_keys(value: dict, allowed: dict) -> dict:
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise ValueError(f"unbekannt: {', '.join(unknown)} (erlaubt: {', '.join(allowed)})")
    return value


class Config(_Strict):
    """The whole configuration of the project."""

    deadlines: Deadlines = Deadlines()
    calendar: CalendarConfig = CalendarConfig()
    rules: RulesConfig = RulesConfig()
    storage: StorageConfig = StorageConfig()
    export: ExportConfig = ExportConfig()
    auth: AuthConfig = AuthConfig()
    retention: RetentionConfig = RetentionConfig()
    records: RecordsConfig = RecordsConfig()
    mail: MailConfig = MailConfig()

    @property
    def database(self) -> Path:
        """Path of the loaded-tickets database."""
        return self.storage.database

    @property
    def app_database(self) -> Path:
        """Path of the database of the dashboard's own records (never touched by a load)."""
        if self.storage.app_database is not None:
            return self.storage.app_database
        db = self.storage.database
        return db.with_name(f"{db.stem}-app{db.suffix}")

    def reference_date(self, today: dt.date | None = None) -> dt.date:
        """The configured Stichtag, or today when it is 'today'."""
        if self.rules.reference_date == "today":
            return today or dt.date.today()
        return self.rules.reference_date

    def kept_months(self, kind: str) -> int:
        """Months a kind of record is kept: conversations, samples, audit or backups."""
        months = getattr(self.retention, f"{kind}_months")
        return self.rules.retention_months if months is None else months

    def deadline(self, area: str) -> int:
        """Working days allowed for a Bereich."""
        return getattr(self.deadlines, area)


class ConfigError(Exception):
    """A configuration that cannot be used; the message names the key."""


def load_config(path: str | Path | None = None, *, environ: dict | None = None) -> Config:
    """Read the configuration from `path`, $TICKET_CONTROLLING_CONFIG or the defaults."""
    env = os.environ if environ is None else environ
    raw: dict = {}
    base = PROJECT_ROOT
    path = path or env.get(ENV_CONFIG)
    if path:
        path = Path(path).expanduser()
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"Konfigurationsdatei {path} nicht gefunden") from exc
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"Konfigurationsdatei {path} ist kein gültiges TOML: {exc}") from exc
        base = path.resolve().parent
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, path)) from None
    storage = config.storage
    updates = {
        # Relative paths in a config file are relative to that file, never to the cwd.
        "database": _resolve(Path(env[ENV_DB]) if env.get(ENV_DB) else storage.database, base),
        "app_database": _resolve(storage.app_database, base) if storage.app_database else None,
        "key_file": _resolve(
            Path(env[ENV_KEY_FILE]) if env.get(ENV_KEY_FILE) else storage.key_file, base
        ),
    }
    auth = config.auth
    users_file = Path(env[ENV_USERS]) if env.get(ENV_USERS) else auth.users_file
    if users_file is not None:
        auth = auth.model_copy(update={"users_file": _resolve(users_file, base)})
    if auth.proxy_secret_file is not None:
        auth = auth.model_copy(update={"proxy_secret_file": _resolve(auth.proxy_secret_file, base)})
    mail = config.mail
    for key in ("password_file", "ca_file"):
        if getattr(mail, key) is not None:
            mail = mail.model_copy(update={key: _resolve(getattr(mail, key), base)})
    retention = config.retention
    if retention.backup_dir is not None:
        retention = retention.model_copy(
            update={"backup_dir": _resolve(retention.backup_dir, base)}
        )
    records = config.records
    if env.get(ENV_RECORDS_URL):
        try:  # validated like the file's key: no password in the URL
            records = RecordsConfig.model_validate(
                {**records.model_dump(), "url": env[ENV_RECORDS_URL]}
            )
        except ValidationError as exc:
            raise ConfigError(_describe(exc, ENV_RECORDS_URL)) from None
    if records.password_file is not None:
        records = records.model_copy(
            update={"password_file": _resolve(records.password_file, base)}
        )
    return config.model_copy(
        update={
            "storage": storage.model_copy(update=updates),
            "auth": auth,
            "retention": retention,
            "records": records,
            "mail": mail,
        }
    )


def _resolve(path: Path, base: Path) -> Path:
    path = path.expanduser()
    return path if path.is_absolute() else (base / path).resolve()


def _describe(exc: ValidationError, path: Path | str | None) -> str:
    where = f" in {path}" if path else ""
    lines = [f"Ungültige Konfiguration{where}:"]
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        lines.append(f"  {key}: {message}")
    return "\n".join(lines)
