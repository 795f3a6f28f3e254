"""fetch_pages against a real local HTTP server (tests/fixtures/api_server.py)."""

from __future__ import annotations

import json

import pytest
import requests

from etl.sources.http_api import ApiError, ApiPage, ApiSourceConfig, fetch_pages, load_api_sources, safe_url
from tests.fixtures.api_server import FixtureApi


def _records(n: int) -> list[dict]:
    # updated_at deliberately not in id order, and with ties, to exercise the (updated_at, id) sort
    return [{"id": f"C{i:04d}", "updated_at": f"2025-08-{1 + i % 9:02d}T10:00:00", "n": i} for i in range(n)]


def _config(api: FixtureApi, **kw) -> ApiSourceConfig:
    return ApiSourceConfig(
        name="test-source", dataset="consultations", url=api.url, pagination=api.mode, page_size=api.page_size, **kw
    )


def _fetch(config: ApiSourceConfig, since: str | None = None, **kw) -> list[ApiPage]:
    kw.setdefault("sleep", lambda s: None)
    return list(fetch_pages(config, since, **kw))


def _ids(pages: list[ApiPage]) -> list[str]:
    return [r["id"] for p in pages for r in p.records]


@pytest.mark.parametrize("mode", ["page", "cursor"])
def test_src101_all_records_exactly_once(mode):
    records = _records(23)
    with FixtureApi(records, page_size=5, mode=mode) as api:
        pages = _fetch(_config(api))
    assert sorted(_ids(pages)) == sorted(r["id"] for r in records)
    assert len(_ids(pages)) == 23
    assert [p.number for p in pages] == [1, 2, 3, 4, 5]
    for page in pages:
        assert page.watermark == max(r["updated_at"] for r in page.records)
    if mode == "cursor":
        assert [p.cursor for p in pages] == ["c5", "c10", "c15", "c20", None]
    else:
        assert all(p.cursor is None for p in pages)


@pytest.mark.parametrize("mode", ["page", "cursor"])
def test_src102_exact_multiple_of_page_size_ends_on_empty_page(mode):
    with FixtureApi(_records(10), page_size=5, mode=mode) as api:
        pages = _fetch(_config(api))
        seen = api.params()
    assert len(_ids(pages)) == 10
    if mode == "page":  # the third request finds an empty page
        assert [p["page"] for p in seen] == ["1", "2", "3"]
    else:  # the second page carries no next cursor
        assert len(seen) == 2 and "cursor" not in seen[0] and seen[1]["cursor"] == "c5"


def test_src103_since_filters_and_is_sent():
    records = _records(30)
    since = "2025-08-05T10:00:00"
    with FixtureApi(records, page_size=7, mode="cursor") as api:
        pages = _fetch(_config(api), since)
        seen = api.params()
    assert sorted(_ids(pages)) == sorted(r["id"] for r in records if r["updated_at"] > since)
    assert all(p["updated_since"] == since for p in seen)


def test_src104_empty_source_yields_nothing():
    with FixtureApi([], page_size=5) as api:
        assert _fetch(_config(api)) == []


def test_src105_500_then_200_retries_and_succeeds():
    slept: list[float] = []
    with FixtureApi(_records(3), page_size=5) as api:
        api.fail_next(status=500, times=1)
        pages = _fetch(_config(api), sleep=slept.append, backoff_s=0.5)
        assert len(api.requests) == 2
    assert len(_ids(pages)) == 3
    assert len(slept) == 1 and 0.5 <= slept[0] <= 0.55


def test_src106_backoff_doubles_and_429_honours_retry_after():
    slept: list[float] = []
    with FixtureApi(_records(3), page_size=5) as api:
        api.fail_next(status=503, times=2)
        api.fail_next(status=429, times=1, retry_after="7")
        pages = _fetch(_config(api), sleep=slept.append, backoff_s=1.0)
    assert len(_ids(pages)) == 3
    assert 1.0 <= slept[0] <= 1.1 and 2.0 <= slept[1] <= 2.2 and slept[2] == 7.0


def test_src107_persistent_500_raises_after_retries():
    with FixtureApi(_records(3), page_size=5) as api:
        api.fail_next(status=500, times=10, body="database is down")
        with pytest.raises(ApiError) as err:
            _fetch(_config(api), retries=4)
        assert len(api.requests) == 5
    message = str(err.value)
    assert "test-source" in message and "page 1" in message
    assert "failed after 5 attempts: HTTP 500" in message and "database is down" in message


def test_src108_malformed_json_retried_once_then_clear_error():
    with FixtureApi(_records(3), page_size=5) as api:
        api.malformed_next(times=2)
        with pytest.raises(ApiError) as err:
            _fetch(_config(api))
        assert len(api.requests) == 2
    assert "page 1" in str(err.value) and "not valid JSON" in str(err.value)


def test_src109_malformed_once_recovers():
    with FixtureApi(_records(3), page_size=5) as api:
        api.malformed_next(times=1)
        assert len(_ids(_fetch(_config(api)))) == 3


def test_src110_404_fails_at_once():
    with FixtureApi(_records(3), page_size=5) as api:
        api.fail_next(status=404, times=1, body='{"error": "no such endpoint"}')
        with pytest.raises(ApiError) as err:
            _fetch(_config(api))
        assert len(api.requests) == 1
    assert "HTTP 404" in str(err.value) and "no such endpoint" in str(err.value)


def test_src111_timeout_is_retried():
    with FixtureApi(_records(3), page_size=5) as api:
        api.delay_next(3.0, times=1)
        pages = _fetch(_config(api), timeout_s=0.3)
        assert len(api.requests) == 2
    assert len(_ids(pages)) == 3


def test_src112_connection_refused_raises_after_retries():
    with FixtureApi([], page_size=5) as api:
        config = _config(api)
    with pytest.raises(ApiError) as err:  # the server is gone now
        _fetch(config, retries=2)
    assert "failed after 3 attempts" in str(err.value) and "connection failed" in str(err.value)


def test_src113_lazy_one_request_per_page_taken():
    with FixtureApi(_records(20), page_size=5) as api:
        pages = fetch_pages(_config(api), None, sleep=lambda s: None)
        assert api.requests == []
        first = next(pages)
        assert first.number == 1
        assert [p["page"] for p in api.params()] == ["1"]
        next(pages)
        assert [p["page"] for p in api.params()] == ["1", "2"]
        pages.close()


def test_src114_resume_after_a_crash_with_ties_across_pages():
    records = _records(20)  # nine distinct updated_at values: ties straddle page boundaries
    with FixtureApi(records, page_size=5, mode="page") as api:
        pages = fetch_pages(_config(api), None)
        first = next(pages)  # the caller commits page 1 with its watermark, then "crashes"
        pages.close()
        assert first.watermark == "2025-08-02T10:00:00" and first.safe_watermark == "2025-08-01T10:00:00"
        by_watermark = _ids(_fetch(_config(api), first.watermark))
        by_safe = _ids(_fetch(_config(api), first.safe_watermark))
    everything = {r["id"] for r in records}
    got = {r["id"] for r in first.records}
    assert got | set(by_safe) == everything  # nothing lost; the tied records are read twice
    assert got | set(by_watermark) != everything  # the plain max loses the tie that continued on page 2


def test_src114b_safe_watermark_carries_over_a_page_of_one_value():
    records = [{"id": f"A{i}", "updated_at": "2025-08-01T09:00:00"} for i in range(3)]
    records += [{"id": f"B{i}", "updated_at": "2025-08-02T09:00:00"} for i in range(6)]
    with FixtureApi(records, page_size=3) as api:
        pages = _fetch(_config(api), "2025-07-01")
    assert [p.safe_watermark for p in pages] == ["2025-07-01", "2025-08-01T09:00:00", "2025-08-01T09:00:00"]
    assert [p.watermark for p in pages] == ["2025-08-01T09:00:00", "2025-08-02T09:00:00", "2025-08-02T09:00:00"]


def test_src115_bare_list_body_and_token_header():
    with FixtureApi(_records(4), page_size=10, records_key="") as api:
        session = requests.Session()
        seen_headers: list[dict] = []
        original = session.get

        def spy(url, **kw):
            seen_headers.append(kw["headers"])
            return original(url, **kw)

        session.get = spy  # type: ignore[method-assign]
        pages = _fetch(_config(api, records_key=""), token="s3cret", session=session)
    assert len(_ids(pages)) == 4
    assert seen_headers[0]["Authorization"] == "Bearer s3cret"


def test_src116_missing_records_key_is_a_clear_error():
    with FixtureApi(_records(4), page_size=10, records_key="items") as api:
        with pytest.raises(ApiError) as err:
            _fetch(_config(api))
    assert "no 'data' list" in str(err.value) and "items" in str(err.value)


def test_src117_safe_url_masks_secrets():
    url = safe_url("https://user:pw@api.example.org/v1/c?api_key=XYZ&district=12", {"page": 2})
    assert "XYZ" not in url and "pw" not in url and "user" not in url
    assert "district=12" in url and "page=2" in url


def test_src118_load_api_sources(tmp_path):
    path = tmp_path / "sources.json"
    path.write_text(
        json.dumps({"sources": [
            {"name": "a", "dataset": "consultations", "url": "https://x.example/api", "pagination": "cursor",
             "page_size": 100, "headers": {"X-Client": "arogya"}, "token_env": "AROGYA_A_TOKEN"},
            {"name": "b", "dataset": "status", "url": "http://y.example/s", "records_key": ""},
        ]}),
        encoding="utf-8",
    )  # fmt: skip
    a, b = load_api_sources(path)
    assert a.pagination == "cursor" and a.page_size == 100 and a.headers == {"X-Client": "arogya"}
    assert b.records_key == "" and b.pagination == "page" and b.page_size == 500


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"name": "a", "dataset": "consultations"}, "missing url"),
        ({"name": "a", "dataset": "visits", "url": "https://x"}, "unknown dataset"),
        ({"name": "a", "dataset": "chos", "url": "https://x", "pagination": "offset"}, "pagination"),
        ({"name": "a", "dataset": "chos", "url": "https://x", "page_size": 0}, "page_size"),
        ({"name": "a", "dataset": "chos", "url": "ftp://x"}, "http(s) URL"),
        ({"name": "a", "dataset": "chos", "url": "https://x", "pagesize": 5}, "unknown keys pagesize"),
        ({"name": "a", "dataset": "chos", "url": "https://x", "pagination": "cursor", "records_key": ""}, "cursor"),
        ({"name": "a", "dataset": "chos", "url": "https://x", "headers": {"X": 1}}, "headers"),
    ],
)
def test_src119_load_api_sources_rejects_bad_config(tmp_path, entry, expected):
    path = tmp_path / "sources.json"
    path.write_text(json.dumps({"sources": [entry]}), encoding="utf-8")
    with pytest.raises(ValueError, match="source 1") as err:
        load_api_sources(path)
    assert expected in str(err.value)
