"""Who is signing in: only what the person cannot simply claim is believed.

OIDC: the login is a verified e-mail address, or else the issuer and subject of the
account (`issuer#subject` in the users file); never a name the user can edit.

Proxy: the proxy authenticates the person and names them in a header. Anyone who reaches
Streamlit's port directly could send that header themselves, so it is believed only when
Streamlit listens on a loopback address (only the proxy on the same host reaches it) or the
request carries the proxy's shared secret; a header sent more than once (the proxy
appended its own to one the client sent) is never believed.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Callable, Mapping
from pathlib import Path


class SignInRefused(Exception):
    """The request's sign-in cannot be believed; the German message says why."""


def is_loopback(address: str | None) -> bool:
    """Whether a server address accepts connections from this host only."""
    if not address:
        return False  # Streamlit's default: every interface
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def read_secret(path: Path | None) -> str | None:
    """The proxy's shared secret from its file (surrounding spaces and newlines dropped)."""
    if path is None:
        return None
    try:
        secret = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise SignInRefused(
            f"Das Proxy-Geheimnis {path} ist nicht lesbar: {exc.strerror}."
        ) from exc
    if len(secret) < 16:
        raise SignInRefused(f"Das Proxy-Geheimnis in {path} ist zu kurz (mindestens 16 Zeichen).")
    return secret


def proxy_login(
    get_all: Callable[[str], list[str]],
    *,
    header: str,
    address: str | None,
    secret_header: str,
    secret: str | None,
) -> str:
    """The login the proxy names, given the request's headers (`get_all(name)`)."""
    if secret is None and not is_loopback(address):
        raise SignInRefused(
            "Die Anmeldung über den Proxy ist nicht sicher eingerichtet: Das Dashboard muss "
            "nur auf 127.0.0.1 lauschen (server.address) oder ein Proxy-Geheimnis "
            "(auth.proxy_secret_file) verlangen."
        )
    if secret is not None:
        sent = get_all(secret_header)
        if len(sent) != 1 or not hmac.compare_digest(sent[0].encode(), secret.encode()):
            raise SignInRefused("Die Anfrage kam nicht über das Anmeldeportal.")
    logins = get_all(header)
    if len(logins) > 1:
        raise SignInRefused("Die Anmeldung ist mehrdeutig (Kopfzeile mehrfach gesendet).")
    login = logins[0].strip() if logins else ""
    if not login:
        raise SignInRefused(
            "Keine Anmeldung erkannt: Das Dashboard ist nur über das Anmeldeportal erreichbar."
        )
    return login


def oidc_login(claims: Mapping[str, object]) -> str:
    """The login of an OIDC sign-in: the verified e-mail, else `issuer#subject`."""
    email = str(claims.get("email") or "").strip()
    if email and claims.get("email_verified") in (True, "true"):
        return email
    issuer, subject = claims.get("iss"), claims.get("sub")
    if issuer and subject:
        return f"{issuer}#{subject}"
    raise SignInRefused(
        "Die Anmeldung nennt weder eine bestätigte E-Mail-Adresse noch ein eindeutiges Konto."
    )
