"""The drop folder: which files are waiting, which dataset each holds, and in what order to load them."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from etl.sources.base import DATASETS

MANIFEST = "manifest.json"
# Masters before facts: a consultation names facilities and CHOs that should already be loaded.
LOAD_ORDER: tuple[str, ...] = DATASETS

_PREFIX = re.compile(
    r"^(?:(consultations?)|(facility|facilities)|(chos?)|(schemes?)|(status|statuses))(?=[_\-\s.]|$)", re.IGNORECASE
)
_GROUPS = {1: "consultations", 2: "facilities", 3: "chos", 4: "schemes", 5: "status"}
_IGNORED_SUFFIXES = (".reason.txt", ".part", ".tmp", ".crdownload", ".partial")


@dataclass(frozen=True)
class LandingFile:
    path: Path
    dataset: str | None  # one of DATASETS, or None when neither the manifest nor the name says
    sheet: str | None  # from the manifest; None means the first sheet


def detect_dataset(file_name: str) -> str | None:
    """The dataset a file name announces by its prefix (``Facilities-master.xlsx`` -> "facilities"), else None."""
    match = _PREFIX.match(Path(file_name).name.strip())
    if match is None:
        return None
    return _GROUPS[match.lastindex or 0]


def is_ignored(name: str) -> bool:
    """Hidden files, the manifest, rejection notes, partial uploads and Excel lock files."""
    lower = name.lower()
    return (
        name.startswith((".", "~$"))
        or lower == MANIFEST
        or lower.endswith(_IGNORED_SUFFIXES)
    )  # fmt: skip


def read_manifest(folder: Path) -> dict[str, tuple[str | None, str | None]]:
    """``manifest.json``: file name -> (dataset, sheet). Raises ValueError with the reason if it is malformed."""
    path = folder / MANIFEST
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from None
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict):
        raise ValueError(f'{path}: expected {{"files": {{"<file name>": {{"dataset": ..., "sheet": ...}}}}}}')
    out: dict[str, tuple[str | None, str | None]] = {}
    for name, entry in files.items():
        if isinstance(entry, str):
            entry = {"dataset": entry}
        if not isinstance(entry, dict):
            raise ValueError(f"{path}: the entry for {name!r} must be an object with 'dataset' and/or 'sheet'")
        unknown = set(entry) - {"dataset", "sheet"}
        if unknown:
            raise ValueError(f"{path}: the entry for {name!r} has unknown keys: {', '.join(sorted(unknown))}")
        dataset, sheet = entry.get("dataset"), entry.get("sheet")
        if dataset is not None and dataset not in DATASETS:
            raise ValueError(f"{path}: {name!r} names dataset {dataset!r}; known: {', '.join(DATASETS)}")
        if sheet is not None and not isinstance(sheet, str):
            raise ValueError(f"{path}: the sheet for {name!r} must be a string")
        out[name] = (dataset, sheet)
    return out


def list_landing_files(folder: Path) -> list[LandingFile]:
    """Files directly in ``folder`` (not in archive/, rejected/ or any subfolder), masters first, then by name.

    The manifest, when present, wins over the file-name prefix. A malformed manifest raises ValueError.
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    loose = {name.casefold(): entry for name, entry in manifest.items()}
    found: list[LandingFile] = []
    for path in folder.iterdir():
        if is_ignored(path.name) or not path.is_file():
            continue
        dataset, sheet = manifest.get(path.name) or loose.get(path.name.casefold()) or (None, None)
        found.append(LandingFile(path, dataset or detect_dataset(path.name), sheet))
    return sorted(found, key=_order)


def _order(item: LandingFile) -> tuple[int, str, str]:
    rank = LOAD_ORDER.index(item.dataset) if item.dataset in LOAD_ORDER else len(LOAD_ORDER)
    return rank, item.path.name.casefold(), item.path.name
