"""Patient identifiers become keyed HMAC-SHA256 tokens before anything reaches the warehouse.

The key lives outside the database: ``AROGYA_PSEUDONYM_KEY`` or a key file created on first use with mode 0600.
Without the key a token cannot be linked back to an ABHA number, a Bhavya ID or a phone number, and with a new key
every token changes, so the key must be backed up with the same care as the database.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets

import numpy as np
import pandas as pd

from etl.settings import Settings

# Values already tokenised (e.g. a quarantined row re-read on a later run) carry this prefix and pass through.
TOKEN_PREFIX = "hmac:"
PATIENT_TOKEN_HEX = 32
DOCTOR_TOKEN_HEX = 24
_NON_DIGITS = re.compile(r"\D+")


class PseudonymKeyError(RuntimeError):
    pass


def load_key(settings: Settings) -> bytes:
    """The HMAC key: from the setting, else from the key file (created with mode 0600 if missing)."""
    if settings.pseudonym_key:
        return settings.pseudonym_key.encode("utf-8")
    path = settings.pseudonym_key_file
    if path.exists():
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise PseudonymKeyError(f"pseudonym key file {path} is readable by others (mode {mode:o}); chmod 600 it")
        key = path.read_text(encoding="utf-8").strip()
        if len(key) < 32:
            raise PseudonymKeyError(f"pseudonym key file {path} holds fewer than 32 characters")
        return key.encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
    return key.encode("utf-8")


def _normalise_abha(value: str) -> str | None:
    digits = _NON_DIGITS.sub("", value)
    return digits if len(digits) == 14 else None


def _normalise_phone(value: str) -> str | None:
    digits = _NON_DIGITS.sub("", value)
    return digits[-10:] if len(digits) >= 10 else None


def _normalise_plain(value: str) -> str | None:
    text = value.strip().upper()
    return text or None


_NORMALISERS = {"abha": _normalise_abha, "bhavya": _normalise_plain, "phone": _normalise_phone,
                "doctor": _normalise_plain}


_BLOCK = hashlib.sha256().block_size


class Pseudonymiser:
    def __init__(self, key: bytes) -> None:
        # HMAC (RFC 2104) with the key's inner and outer pads hashed once: each token then copies the two hash
        # states instead of starting over from the key, less than half the cost of ``hmac.digest`` per value.
        self._key = key
        padded = (hashlib.sha256(key).digest() if len(key) > _BLOCK else key).ljust(_BLOCK, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in padded))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in padded))

    def __reduce__(self) -> tuple:
        return (Pseudonymiser, (self._key,))  # hash states do not pickle: made again from the key

    def _hex(self, message: str) -> str:
        """HMAC-SHA256 of ``message`` under the key, in hex: the same as ``hmac.new(key, message, sha256)``."""
        inner = self._inner.copy()
        inner.update(message.encode())
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()

    def token(self, kind: str, value: str, hex_chars: int = PATIENT_TOKEN_HEX) -> str | None:
        if value.startswith(TOKEN_PREFIX):
            return value[len(TOKEN_PREFIX):] or None
        normalised = _NORMALISERS[kind](value)
        if normalised is None:
            return None
        return self._hex(f"{kind}:{normalised}")[:hex_chars]

    def tokens(self, kind: str, values: pd.Series, hex_chars: int = PATIENT_TOKEN_HEX) -> pd.Series:
        """Tokens for a column; empty or malformed identifiers give None."""
        text = values.astype(object).where(values.notna(), "")
        codes, uniques = pd.factorize(text)
        # ``token`` inlined: this loop runs once per distinct identifier of every batch.
        inner, outer, normalise, label = self._inner, self._outer, _NORMALISERS[kind], f"{kind}:"
        tokens: list[str | None] = []
        for raw in uniques.tolist():
            value = str(raw) if raw else ""
            if not value:
                tokens.append(None)
            elif value.startswith(TOKEN_PREFIX):
                tokens.append(value[len(TOKEN_PREFIX):] or None)
            else:
                normalised = normalise(value)
                if normalised is None:
                    tokens.append(None)
                    continue
                digest = inner.copy()
                digest.update((label + normalised).encode())
                keyed = outer.copy()
                keyed.update(digest.digest())
                tokens.append(keyed.hexdigest()[:hex_chars])
        tokens.append(None)  # code -1 (missing) takes the last entry
        return pd.Series(np.array(tokens, dtype=object)[codes], index=values.index, dtype=object)

    def patient_tokens(self, abha: pd.Series | None, bhavya: pd.Series | None, phone: pd.Series | None,
                       index: pd.Index) -> pd.Series:
        """One token per patient from the strongest identifier present: ABHA, then Bhavya ID, then phone."""
        result = pd.Series(None, index=index, dtype=object)
        for kind, column in (("abha", abha), ("bhavya", bhavya), ("phone", phone)):
            if column is None:
                continue
            missing = result.isna()
            if not missing.any():
                break
            result[missing] = self.tokens(kind, column[missing])
        return result


def mask_secret(value: str, kind: str, pseudonymiser: Pseudonymiser) -> str:
    """How a patient identifier is kept in quarantine: as its token, marked so a re-read passes it through."""
    if not value:
        return ""
    token = pseudonymiser.token(kind, value, DOCTOR_TOKEN_HEX if kind == "doctor" else PATIENT_TOKEN_HEX)
    return f"{TOKEN_PREFIX}{token}" if token else f"{TOKEN_PREFIX}"
