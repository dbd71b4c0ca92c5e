"""Customer numbers are social data: they are stored only as a keyed hash (HMAC-SHA256).

The key is a random local secret, created on first use in a file only its owner can read,
outside the repository (config `storage.key_file`, env TICKET_CONTROLLING_KEY_FILE).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

KEY_BYTES = 32
BLOCK = 64  # SHA-256 block size, for the HMAC pads


def load_or_create_key(path: Path) -> bytes:
    """The pseudonym key from `path`, created (mode 0600) when it does not exist yet."""
    path = Path(path)
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_bytes(KEY_BYTES)
    try:
        # O_EXCL: two first loads at once must not end up with two different keys.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key.hex())
    return key


def hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """(inner, outer) padded keys, so SQL can compute HMAC-SHA256 with two sha256 calls."""
    if len(key) > BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


# HMAC(K, m) = H((K ^ opad) || H((K ^ ipad) || m)); the two parameters are the outer and
# then the inner pad. Vectorised over every row of a load, and the key never enters SQL text.
HMAC_SQL = "sha256(?::BLOB || unhex(sha256(?::BLOB || encode({value}))))"


def pseudonym(key: bytes, value: str) -> str:
    """The keyed hash of one value (the same as HMAC_SQL computes)."""
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()
