"""What a contract is: canonical fields, their kinds and the header aliases real exports use."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum


class Kind(StrEnum):
    TEXT = "text"
    ID = "id"
    INT = "int"
    FLOAT = "float"
    DATE = "date"
    DATETIME = "datetime"
    MONTH = "month"
    TIME = "time"
    CHOICE = "choice"
    SECRET = "secret"  # a patient identifier: tokenised at transform time, never stored raw
    DROP = "drop"  # recognised but never kept (patient names, addresses)


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind
    required: bool = False
    aliases: tuple[str, ...] = ()
    # For CHOICE fields: accepted spelling (normalised) -> canonical value.
    choices: dict[str, str] = field(default_factory=dict)
    default: object = None
    description: str = ""


@dataclass(frozen=True)
class Contract:
    dataset: str
    fields: tuple[Field, ...]
    key: tuple[str, ...]
    description: str = ""

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)


_SEPARATORS = re.compile(r"[\s_\-./()\[\]:#]+")


def normalise_header(text: str) -> str:
    """Header spelling that ignores case, spacing, punctuation and Unicode form ("Spoke  ID" == "spoke_id")."""
    text = unicodedata.normalize("NFC", str(text)).replace("\ufeff", "").strip().casefold()
    return _SEPARATORS.sub("", text)


def normalise_choice(text: str) -> str:
    return normalise_header(text)


@dataclass(frozen=True)
class HeaderMap:
    """How a file's headers map onto a contract."""

    columns: dict[str, str]  # file header -> canonical field
    unknown: tuple[str, ...]  # headers the contract does not know (ignored, reported)
    missing_required: tuple[str, ...]
    duplicates: tuple[str, ...]  # canonical fields named by more than one header


def map_headers(contract: Contract, headers: list[str]) -> HeaderMap:
    lookup: dict[str, str] = {}
    for f in contract.fields:
        for spelling in (f.name, *f.aliases):
            lookup[normalise_header(spelling)] = f.name
    columns: dict[str, str] = {}
    unknown: list[str] = []
    seen: dict[str, str] = {}
    duplicates: list[str] = []
    for header in headers:
        canonical = lookup.get(normalise_header(header))
        if canonical is None:
            unknown.append(str(header))
            continue
        if canonical in seen:
            duplicates.append(canonical)
            continue
        seen[canonical] = header
        columns[str(header)] = canonical
    missing = tuple(name for name in contract.required if name not in seen)
    return HeaderMap(columns, tuple(unknown), missing, tuple(dict.fromkeys(duplicates)))
