"""Who is signing in: case tables of headers and claims as an attacker sends them."""

from __future__ import annotations

import pytest

from dashboard.access.signin import (
    SignInRefused,
    is_loopback,
    oidc_login,
    proxy_login,
    read_secret,
)
from dashboard.core.format import plain

SECRET = "s3cr3t-from-the-proxy-0123456789"


def _headers(*pairs: tuple[str, str]):
    def get_all(name: str) -> list[str]:
        return [v for k, v in pairs if k.lower() == name.lower()]

    return get_all


@pytest.mark.parametrize(
    ("address", "secret", "pairs", "expected"),
    [
        # loopback only: the proxy on this host is the only client; one header, believed
        ("127.0.0.1", None, [("X-Remote-User", "tl@jc")], "tl@jc"),
        ("::1", None, [("x-remote-user", " tl@jc ")], "tl@jc"),
        ("localhost", None, [("X-Remote-User", "tl@jc")], "tl@jc"),
        # every interface without a secret: nobody is believed, whatever they send
        ("", None, [("X-Remote-User", "admin@jc")], None),
        ("0.0.0.0", None, [("X-Remote-User", "admin@jc")], None),
        ("10.1.2.3", None, [("X-Remote-User", "admin@jc")], None),
        # with a secret: only requests that carry it, exactly once
        ("0.0.0.0", SECRET, [("X-Remote-User", "tl@jc"), ("X-Proxy-Secret", SECRET)], "tl@jc"),
        ("0.0.0.0", SECRET, [("X-Remote-User", "admin@jc")], None),
        ("0.0.0.0", SECRET, [("X-Remote-User", "admin@jc"), ("X-Proxy-Secret", "guess")], None),
        ("0.0.0.0", SECRET, [("X-Remote-User", "a@jc"), ("X-Proxy-Secret", SECRET),
                             ("X-Proxy-Secret", SECRET)], None),
        ("127.0.0.1", SECRET, [("X-Remote-User", "admin@jc")], None),  # secret set: required
        # the header twice (the client's own and the proxy's): never believed
        ("127.0.0.1", None, [("X-Remote-User", "admin@jc"), ("X-Remote-User", "tl@jc")], None),
        ("127.0.0.1", None, [], None),
        ("127.0.0.1", None, [("X-Remote-User", "  ")], None),
    ],
)  # fmt: skip
def test_the_header_is_believed_only_when_it_can_be(address, secret, pairs, expected):
    call = dict(header="X-Remote-User", address=address, secret_header="X-Proxy-Secret",
                secret=secret)  # fmt: skip
    if expected is None:
        with pytest.raises(SignInRefused):
            proxy_login(_headers(*pairs), **call)
    else:
        assert proxy_login(_headers(*pairs), **call) == expected


@pytest.mark.parametrize(
    ("address", "loopback"),
    [("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("localhost", True),
     ("", False), (None, False), ("0.0.0.0", False), ("::", False), ("192.168.0.5", False),
     ("dashboard.jc.example", False)],
)  # fmt: skip
def test_loopback_addresses(address, loopback):
    assert is_loopback(address) is loopback


def test_a_short_or_missing_secret_file_is_refused(tmp_path):
    short = tmp_path / "short"
    short.write_text("abc\n", encoding="utf-8")
    with pytest.raises(SignInRefused, match="zu kurz"):
        read_secret(short)
    with pytest.raises(SignInRefused, match="nicht lesbar"):
        read_secret(tmp_path / "missing")
    good = tmp_path / "good"
    good.write_text(SECRET + "\n", encoding="utf-8")
    assert read_secret(good) == SECRET


@pytest.mark.parametrize(
    "text",
    ["[klick](https://evil.example/x)", "![bild](https://evil.example/p.png)",
     "<img src=https://evil.example/p.png>", "**fett** `code` :material/lock: $x$"],
)  # fmt: skip
def test_plain_text_keeps_no_markdown_syntax(text):
    escaped = plain(text)
    # every Markdown-active character is preceded by a backslash
    for i, char in enumerate(escaped):
        if char in "[]()<>*`!:$" and (i == 0 or escaped[i - 1] != "\\"):
            raise AssertionError(f"unescaped {char!r} in {escaped!r}")


ISSUER = "https://login.jc.example"


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({"email": "a@jc.example", "email_verified": True, "iss": ISSUER, "sub": "1"},
         "a@jc.example"),
        ({"email": "a@jc.example", "email_verified": "true"}, "a@jc.example"),
        # an address nobody verified is something the user typed: the account counts instead
        ({"email": "admin@jc.example", "iss": ISSUER, "sub": "77"}, f"{ISSUER}#77"),
        ({"email": "admin@jc.example", "email_verified": False, "iss": ISSUER, "sub": "77"},
         f"{ISSUER}#77"),
        # a name the user can edit is never a login
        ({"preferred_username": "admin@jc.example", "iss": ISSUER, "sub": "78"}, f"{ISSUER}#78"),
        ({"preferred_username": "admin@jc.example"}, None),
        ({"email": "admin@jc.example"}, None),
        ({}, None),
    ],
)  # fmt: skip
def test_an_oidc_login_is_never_a_claim_the_user_can_edit(claims, expected):
    if expected is None:
        with pytest.raises(SignInRefused):
            oidc_login(claims)
    else:
        assert oidc_login(claims) == expected
