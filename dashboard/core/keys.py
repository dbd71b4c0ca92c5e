"""Customer numbers are social data: they are stored only as a keyed hash (HMAC-SHA256).

The key is a random local secret, created on first use in a file only its owner can read,
outside the repository (config `storage.key_file`, env TICKET_CONTROLLING_KEY_FILE).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import tempfile
from pathlib import Path

KEY_BYTES = 32
BLOCK = 64  # SHA-256 block size, for the HMAC pads


class KeyFileError(Exception):
    """The key file exists but holds no usable key; nothing is pseudonymised with it."""


def load_or_create_key(path: Path) -> bytes:
    """The pseudonym key from `path`, created (mode 0600) when it does not exist yet."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=".key-", dir=path.parent)  # mode 0600
        try:
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(secrets.token_bytes(KEY_BYTES).hex())
            # link() publishes the complete file or fails when another process was first:
            # nobody ever reads a half-written key, and two first loads agree on one key.
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    return _read_key(path)


def _read_key(path: Path) -> bytes:
    try:
        key = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (ValueError, UnicodeDecodeError):
        key = b""
    if len(key) != KEY_BYTES:
        # A short or empty key would make the pseudonyms an unkeyed hash anyone can
        # reverse by trying all customer numbers.
        raise KeyFileError(
            f"Die Schlüsseldatei {path} ist beschädigt (erwartet {KEY_BYTES * 2} Hex-Zeichen). "
            "Ohne den ursprünglichen Schlüssel passen neue Pseudonyme nicht zu den alten; "
            "bitte die Datei aus der Sicherung wiederherstellen."
        )
    return key


def hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """(inner, outer) padded keys, so SQL can compute HMAC-SHA256 with two sha256 calls."""
    if len(key) > BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


# HMAC(K, m) = H((K ^ opad) || H((K ^ ipad) || m)); the two parameters are the outer and
# then the inner pad. Vectorised over every row of a load, and the key never enters SQL text.
# The pseudonym is the first 64 bits as an unsigned integer: fixed-width, so it costs a
# fraction of the 64-character hex text to store and compare, and two of a million
# customers share one with a probability of about 3e-8.
HMAC_SQL = (
    "('0x' || left(sha256(?::BLOB || unhex(sha256(?::BLOB || encode({value})))), 16))::UBIGINT"
)


def pseudonym(key: bytes, value: str) -> int:
    """The keyed hash of one value (the same as HMAC_SQL computes)."""
    return int(hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:16], 16)
