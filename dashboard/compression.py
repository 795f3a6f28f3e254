"""Response compression: flask-compress, switched on through Dash's ``compress=True``.

Every text response is compressed with the best encoding the client accepts (zstd, br, gzip, deflate), including the
streamed ones (stylesheets, the boundary GeoJSON), which flask-compress by default sends gzip-only clients raw. The
component bundles under ``/_dash-component-suites/`` have versioned URLs and never change while the process lives: each
is compressed once per encoding and kept, instead of on every first visit (plotly.js alone is 4.8 MB). Streamed CSV
exports (``text/csv``) are not compressed: they stay constant-memory streams.
"""

from __future__ import annotations

import threading
from typing import Any

ENCODINGS = ["zstd", "br", "gzip", "deflate"]
MIMETYPES = [
    "text/html", "text/css", "text/plain", "text/javascript", "application/javascript", "application/x-javascript",
    "application/json", "application/geo+json", "image/svg+xml", "image/x-icon", "image/vnd.microsoft.icon",
]
BUNDLE_PREFIX = "/_dash-component-suites/"
MAX_BUNDLES = 512


def bundle_key(request: Any) -> str:
    """The cache key flask-compress asks for: the URL of a component bundle, "" for anything else."""
    if request.method == "GET" and request.path.startswith(BUNDLE_PREFIX):
        return request.full_path
    return ""


class BundleCache:
    """Compressed component bundles by "<encoding>;<url>"; keys of other responses ("<encoding>;") are ignored."""

    def __init__(self, max_entries: int = MAX_BUNDLES) -> None:
        self.max_entries = max_entries
        self._data: dict[str, bytes] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _cacheable(key: str) -> bool:
        return not key.endswith(";")

    def get(self, key: str) -> bytes | None:
        return self._data.get(key) if self._cacheable(key) else None

    def set(self, key: str, value: bytes) -> None:
        if not self._cacheable(key):
            return
        with self._lock:
            if key in self._data or len(self._data) < self.max_entries:
                self._data[key] = value


def compress_config() -> dict[str, Any]:
    """Flask config for flask-compress; must be on the server before Dash initialises compression."""
    return {
        "COMPRESS_ALGORITHM": list(ENCODINGS),
        "COMPRESS_ALGORITHM_STREAMING": list(ENCODINGS),
        "COMPRESS_MIMETYPES": list(MIMETYPES),
        "COMPRESS_CACHE_BACKEND": BundleCache,
        "COMPRESS_CACHE_KEY": bundle_key,
    }
