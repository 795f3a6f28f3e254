"""Password hashing with scrypt (Python's standard library, memory-hard), random passwords, and a constant-time check.

A stored hash reads ``scrypt$<log2 n>$<r>$<p>$<salt, base64>$<hash, base64>``, so the cost can be raised later and
old hashes still verify (``needs_rehash`` tells when to store a new one after a successful login).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import string

LOG2_N, R, P = 15, 8, 1  # 32 MiB of memory per hash; ~50-100 ms on a server core
DKLEN = 32
MIN_LENGTH = 12
MAX_LENGTH = 1024  # longer "passwords" are refused before hashing (cheap denial of service otherwise)
_ALPHABET = string.ascii_letters + string.digits


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _scrypt(password: str, salt: bytes, log2_n: int, r: int, p: int) -> bytes:
    n = 1 << log2_n
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=DKLEN,
                          maxmem=256 * n * r + 1024 * 1024)


def hash_password(password: str) -> str:
    if not password or len(password) > MAX_LENGTH:
        raise ValueError(f"a password must have 1 to {MAX_LENGTH} characters")
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, LOG2_N, R, P)
    return f"scrypt${LOG2_N}${R}${P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str | None) -> bool:
    """True if ``password`` matches ``stored``. Never raises on a malformed hash (it simply does not match)."""
    if not stored or not password or len(password) > MAX_LENGTH:
        return False
    try:
        kind, log2_n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt" or not (10 <= int(log2_n) <= 20):
            return False
        expected = base64.b64decode(digest)
        actual = _scrypt(password, base64.b64decode(salt), int(log2_n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def needs_rehash(stored: str) -> bool:
    return not stored.startswith(f"scrypt${LOG2_N}${R}${P}$")


_DUMMY: list[str] = []


def burn_time(password: str) -> None:
    """Check ``password`` against the hash of a random one: an unknown username then takes as long to refuse as a
    wrong password (no user enumeration by timing)."""
    if not _DUMMY:
        _DUMMY.append(hash_password(secrets.token_urlsafe(16)))
    verify_password(password or "x", _DUMMY[0])


def generate_password(length: int = 16) -> str:
    """A random password of letters and digits (16 characters ≈ 95 bits)."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def fingerprint(stored: str) -> str:
    """A short tag of the stored hash, kept in the session: a password reset changes it and ends every session."""
    return hashlib.sha256(stored.encode("utf-8")).hexdigest()[:16]


def check_strength(password: str) -> str | None:
    """Why ``password`` is too weak, or None."""
    if len(password) < MIN_LENGTH:
        return f"a password needs at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"a password may have at most {MAX_LENGTH} characters"
    if len(set(password)) < 5:
        return "a password needs more than four different characters"
    return None
