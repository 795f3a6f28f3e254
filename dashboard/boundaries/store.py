"""Uploaded block boundaries as static files in the geo folder: written atomically, served by the app's ``/geo/``
route, versioned by modification time so a browser that cached an older upload fetches the new one."""

from __future__ import annotations

import functools
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class StoredBlocks:
    """A district's stored block file: its name under the geo folder, a version for the URL, its block codes."""

    name: str
    version: str
    codes: tuple[int, ...]


def block_file_name(district_lgd: int) -> str:
    return f"blocks_{int(district_lgd)}.geojson"


def write_blocks(geo_dir: Path, district_lgd: int, collection: dict[str, Any]) -> Path:
    """Replace the district's file in one step: a reader sees the old file or the new one, never half of one."""
    geo_dir.mkdir(parents=True, exist_ok=True)
    path = geo_dir / block_file_name(district_lgd)
    payload = json.dumps(collection, ensure_ascii=False, separators=(",", ":"))
    fd, tmp = tempfile.mkstemp(prefix=".blocks-", suffix=".tmp", dir=geo_dir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(payload)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def remove_blocks(geo_dir: Path, district_lgd: int) -> bool:
    """Delete the district's file; False when there was none."""
    path = geo_dir / block_file_name(district_lgd)
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


@functools.lru_cache(maxsize=64)
def _codes(path: str, _mtime_ns: int, _size: int) -> tuple[int, ...]:
    with open(path, encoding="utf-8") as handle:
        document = json.load(handle)
    return tuple(int(f["id"]) for f in document.get("features", []) if str(f.get("id", "")).isdigit())


def stored_blocks(geo_dir: Path, district_lgd: int) -> StoredBlocks | None:
    """The district's uploaded blocks, or None. The file is parsed once per version (modification time, size)."""
    name = block_file_name(district_lgd)
    path = geo_dir / name
    try:
        stat = path.stat()
        codes = _codes(str(path), stat.st_mtime_ns, stat.st_size)
    except (OSError, ValueError):
        return None
    return StoredBlocks(name=name, version=f"{stat.st_mtime_ns:x}-{stat.st_size:x}", codes=codes)


def blocks_version(geo_dir: Path, district_lgd: int) -> str | None:
    """The version of the district's uploaded block file (None when there is none), cheap enough for a cache key."""
    try:
        stat = (geo_dir / block_file_name(district_lgd)).stat()
    except OSError:
        return None
    return f"{stat.st_mtime_ns:x}-{stat.st_size:x}"
