"""Paginated partner HTTP APIs (page-number or next-cursor), read page by page with retries.

``fetch_pages`` is a lazy generator: page n+1 is requested only when the caller asks for it, so a caller that commits
each page's records together with its watermark can stop or crash at any point and resume from what it stored.
"""

from __future__ import annotations

import email.utils
import json
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests

from etl.sources.base import DATASETS

RETRY_AFTER_CAP_S = 60.0
_SECRET_WORDS = ("token", "key", "secret", "password", "passwd", "signature", "sig", "auth", "credential")


@dataclass(frozen=True)
class ApiSourceConfig:
    name: str  # ledger/watermark key, e.g. "esanjeevani-consultations"
    dataset: str  # which contract the records follow
    url: str
    pagination: str = "page"  # "page" (page number) or "cursor" (next-cursor)
    records_key: str = "data"  # key of the list of records in each response object ("" = the body is the list)
    page_param: str = "page"
    page_size_param: str = "page_size"
    page_size: int = 500
    cursor_param: str = "cursor"
    next_cursor_key: str = "next_cursor"
    since_param: str = "updated_since"
    updated_field: str = "updated_at"
    headers: dict[str, str] = field(default_factory=dict)
    token_env: str | None = None  # name of an env var holding a bearer token, read by the caller's settings


@dataclass
class ApiPage:
    number: int  # 1-based page counter
    records: list[dict]  # as received (values may be any JSON scalar)
    watermark: str | None  # the max ``updated_field`` value seen in this page (ISO string compare)
    cursor: str | None  # the cursor to resume AFTER this page (cursor mode), else None
    # A ``since`` that loses nothing when resuming after this page even if records sharing the page's last
    # ``updated_field`` value continue on the next page (the server compares ``>``): the highest value below the
    # page's maximum, carried over from earlier pages (and ``since``) when the whole page shares one value. Those
    # tied records are then read again, which an idempotent load absorbs. Assumes pages come in ``updated_field``
    # order, as ``watermark`` does.
    safe_watermark: str | None = None


class ApiError(Exception):
    """A page could not be fetched: the message names the source, the URL (secrets masked), the page and why."""


def fetch_pages(
    config: ApiSourceConfig,
    since: str | None,
    *,
    token: str | None = None,
    timeout_s: float = 30,
    retries: int = 4,
    backoff_s: float = 0.5,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[ApiPage]:
    """Yield the source's pages in order, lazily, until an empty page, a short page (page mode) or a missing
    next cursor (cursor mode). ``since`` is sent as ``config.since_param`` when not None.

    Connection errors, timeouts, HTTP 5xx and 429 are retried ``retries`` times with exponential backoff; any other
    failure raises ``ApiError`` at once.
    """
    own_session = session is None
    http = session or requests.Session()
    headers = {"Accept": "application/json", **config.headers}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    fetcher = _Fetcher(config, http, headers, timeout_s, max(0, retries), backoff_s, sleep)
    try:
        number, cursor, safe, top = 1, None, since, None
        previous: list[dict] | None = None
        while True:
            params: dict[str, Any] = {config.page_size_param: config.page_size}
            if config.pagination == "page":
                params[config.page_param] = number
            elif cursor is not None:
                params[config.cursor_param] = cursor
            if since is not None:
                params[config.since_param] = since
            body = fetcher.get(params, number)
            records = fetcher.records(body, params, number)
            if not records:
                return
            next_cursor = None
            if config.pagination == "cursor":
                raw = body.get(config.next_cursor_key) if isinstance(body, dict) else None
                next_cursor = None if raw in (None, "") else str(raw)
                if next_cursor is not None and next_cursor == cursor:
                    raise fetcher.error(params, number, f"the server returned the same cursor {cursor!r} again")
            elif records == previous:
                raise fetcher.error(params, number, "the page repeats the previous one (is 'page' ignored?)")
            watermark, safe = _watermarks(records, config.updated_field, safe, top)
            top = watermark or top
            yield ApiPage(number, records, watermark, next_cursor, safe)
            if config.pagination == "page" and len(records) < config.page_size:
                return
            if config.pagination == "cursor" and next_cursor is None:
                return
            number, cursor, previous = number + 1, next_cursor, records
    finally:
        if own_session:
            http.close()


def _watermarks(
    records: list[dict], key: str, carried: str | None, previous: str | None
) -> tuple[str | None, str | None]:
    """(max value of ``key`` in the page, the safe resume value; see ApiPage.safe_watermark). In ``key`` order,
    every value below the page's maximum, including the previous page's maximum, has been delivered in full."""
    values = [str(r[key]) for r in records if r.get(key) not in (None, "")]
    if not values:
        return None, carried
    top = max(values)
    below = [v for v in (*values, carried, previous) if v is not None and v < top]
    return top, max(below) if below else carried


class _Fetcher:
    def __init__(
        self, config: ApiSourceConfig, http: requests.Session, headers: dict[str, str], timeout_s: float,
        retries: int, backoff_s: float, sleep: Callable[[float], None],
    ) -> None:  # fmt: skip
        self.config, self.http, self.headers = config, http, headers
        self.timeout_s, self.retries, self.backoff_s, self.sleep = timeout_s, retries, backoff_s, sleep

    def error(self, params: dict[str, Any], number: int, what: str) -> ApiError:
        return ApiError(f"{self.config.name}: {safe_url(self.config.url, params)} page {number}: {what}")

    def get(self, params: dict[str, Any], number: int) -> Any:
        attempts = self.retries + 1
        malformed_retried = False
        attempt = 0
        while True:
            wait: float | None = None
            try:
                response = self.http.get(self.config.url, params=params, headers=self.headers, timeout=self.timeout_s)
            except (requests.ConnectionError, requests.Timeout) as exc:
                problem = f"{'timed out' if isinstance(exc, requests.Timeout) else 'connection failed'} ({exc})"
            except requests.RequestException as exc:
                raise self.error(params, number, f"request failed: {exc}") from None
            else:
                status = response.status_code
                if status == 204:
                    return None
                if status == 429 or status >= 500:
                    problem = f"HTTP {status} {_snippet(response.text)}".rstrip()
                    wait = _retry_after(response.headers.get("Retry-After"))
                elif status >= 400:
                    raise self.error(params, number, f"HTTP {status}: {_snippet(response.text)}")
                else:
                    try:
                        return response.json()
                    except ValueError as exc:
                        problem = f"the response is not valid JSON ({exc}): {_snippet(response.text)}"
                        if malformed_retried:
                            raise self.error(params, number, problem) from None
                        malformed_retried = True
            attempt += 1
            if attempt >= attempts:
                raise self.error(params, number, f"failed after {attempts} attempts: {problem}")
            delay = self.backoff_s * 2 ** (attempt - 1)
            delay += random.uniform(0, delay / 10)
            self.sleep(min(wait, RETRY_AFTER_CAP_S) if wait is not None else delay)

    def records(self, body: Any, params: dict[str, Any], number: int) -> list[dict]:
        key = self.config.records_key
        if body is None:  # 204 No Content
            return []
        if key:
            if not isinstance(body, dict):
                raise self.error(params, number, f"expected a JSON object with a {key!r} list, got {_kind(body)}")
            if key not in body:
                keys = ", ".join(map(str, list(body)[:10])) or "none"
                raise self.error(params, number, f"the response has no {key!r} list (keys: {keys})")
            records = body[key]
        else:
            records = body
        if records is None:
            return []
        if not isinstance(records, list):
            raise self.error(params, number, f"{key or 'the body'!r} is {_kind(records)}, not a list of records")
        for i, record in enumerate(records):
            if not isinstance(record, dict):
                raise self.error(params, number, f"record {i + 1} is {_kind(record)}, not an object")
        return records


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", type(None): "null", bool: "a boolean"}.get(
        type(value), "a number"
    )


def _snippet(text: str) -> str:
    return " ".join(text[:200].split())


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def safe_url(url: str, params: dict[str, Any] | None = None) -> str:
    """The URL with its query parameters, user info and anything that looks like a secret masked."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    query = parse_qsl(parts.query, keep_blank_values=True) + [(k, str(v)) for k, v in (params or {}).items()]
    masked = [(k, "***" if any(w in k.lower() for w in _SECRET_WORDS) else v) for k, v in query]
    return urlunsplit((parts.scheme, host, parts.path, urlencode(masked), ""))


def load_api_sources(path: Path) -> list[ApiSourceConfig]:
    """Read ``{"sources": [{...ApiSourceConfig fields...}]}``; ValueError naming the file and source if malformed."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: cannot read the API source list ({exc})") from None
    sources = data.get("sources") if isinstance(data, dict) else None
    if not isinstance(sources, list):
        raise ValueError(f'{path}: expected {{"sources": [{{"name": ..., "dataset": ..., "url": ...}}, ...]}}')
    configs = [_config(path, i, entry) for i, entry in enumerate(sources, start=1)]
    names = [c.name for c in configs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"{path}: source names must be unique; repeated: {', '.join(duplicates)}")
    return configs


_FIELD_TYPES = {f.name: f.type for f in fields(ApiSourceConfig)}


def _config(path: Path, index: int, entry: Any) -> ApiSourceConfig:
    where = f"{path}: source {index}"
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: must be an object")
    if isinstance(entry.get("name"), str):
        where += f" ({entry['name']!r})"
    unknown = sorted(set(entry) - set(_FIELD_TYPES))
    if unknown:
        raise ValueError(f"{where}: unknown keys {', '.join(unknown)}; known: {', '.join(_FIELD_TYPES)}")
    missing = [k for k in ("name", "dataset", "url") if not entry.get(k)]
    if missing:
        raise ValueError(f"{where}: missing {', '.join(missing)}")
    for key, value in entry.items():
        expected = _FIELD_TYPES[key]
        if key == "page_size":
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{where}: page_size must be a whole number >= 1, got {value!r}")
        elif key == "headers":
            if not isinstance(value, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in value.items()
            ):
                raise ValueError(f"{where}: headers must be an object of strings")
        elif key == "token_env":
            if value is not None and not isinstance(value, str):
                raise ValueError(f"{where}: token_env must be a string (the name of an environment variable)")
        elif not isinstance(value, str):
            raise ValueError(f"{where}: {key} must be a string ({expected}), got {value!r}")
    if entry["dataset"] not in DATASETS:
        raise ValueError(f"{where}: unknown dataset {entry['dataset']!r}; known: {', '.join(DATASETS)}")
    if entry.get("pagination", "page") not in ("page", "cursor"):
        raise ValueError(f"{where}: pagination must be 'page' or 'cursor', got {entry['pagination']!r}")
    if entry.get("pagination") == "cursor" and entry.get("records_key") == "":
        raise ValueError(f"{where}: cursor pagination needs a records_key (the next cursor sits beside the records)")
    if urlsplit(entry["url"]).scheme not in ("http", "https") or not urlsplit(entry["url"]).hostname:
        raise ValueError(f"{where}: url must be an http(s) URL, got {safe_url(entry['url'])!r}")
    return ApiSourceConfig(**entry)
