"""Compression of what the app serves, and the dashboard benchmark's own machinery run once on the small test
warehouse (no timings asserted: the figures are the benchmark's job, on the state demo)."""

from __future__ import annotations

import gzip
import importlib.util
import json
import sys
from pathlib import Path

import pytest

from dashboard.app_factory import create_app
from dashboard.compression import BUNDLE_PREFIX, BundleCache, bundle_key
from tests.auth_helpers import logged_in_client
from tests.fixtures.warehouse_factory import build_warehouse, reader_engine

ROOT = Path(__file__).resolve().parents[2]
AUGUST = "?period=custom&from=2025-08-02&to=2025-08-31"


@pytest.fixture(scope="module")
def wh(tmp_path_factory):  # type: ignore[no-untyped-def]
    warehouse = build_warehouse(tmp_path_factory.mktemp("perf-http"))
    yield warehouse
    warehouse.drop()


@pytest.fixture(scope="module")
def app(wh):  # type: ignore[no-untyped-def]
    return create_app(wh.settings, engine=reader_engine(wh))


def _bundle(client) -> str:  # type: ignore[no-untyped-def]
    html = client.get("/").get_data(as_text=True)
    start = html.index(BUNDLE_PREFIX)
    return html[start:html.index('"', start)]


def test_dash320_text_responses_are_compressed_for_gzip_clients(app):  # type: ignore[no-untyped-def]
    client = logged_in_client(app)
    for path in ("/", _bundle(client), "/assets/00_bootstrap.min.css", "/geo/bihar_districts.geojson"):
        plain = client.get(path, headers={"Accept-Encoding": "identity"})
        packed = client.get(path, headers={"Accept-Encoding": "gzip"})
        assert plain.status_code == packed.status_code == 200, path
        assert packed.headers.get("Content-Encoding") == "gzip", path
        unpacked = gzip.decompress(packed.get_data())
        if path == "/":  # the page carries a per-response nonce
            assert unpacked.startswith(b"<!DOCTYPE html>") and abs(len(unpacked) - len(plain.get_data())) < 200
        else:
            assert unpacked == plain.get_data(), path
        assert "Content-Encoding" not in plain.headers
        assert "Accept-Encoding" in packed.headers.get("Vary", "")


def test_dash321_best_encoding_and_csv_streams_untouched(app):  # type: ignore[no-untyped-def]
    client = logged_in_client(app)
    bundle = _bundle(client)
    assert client.get(bundle, headers={"Accept-Encoding": "gzip, deflate, br, zstd"}).headers[
        "Content-Encoding"] == "zstd"
    assert client.get(bundle, headers={"Accept-Encoding": "gzip, br"}).headers["Content-Encoding"] == "br"
    export = client.get("/api/export/overview-districts.csv" + AUGUST, headers={"Accept-Encoding": "gzip"})
    assert export.status_code == 200 and "Content-Encoding" not in export.headers


def test_dash322_bundles_are_compressed_once(app):  # type: ignore[no-untyped-def]
    from flask_compress import Compress

    compress = next(f.__self__ for f in app.server.after_request_funcs[None]
                    if isinstance(getattr(f, "__self__", None), Compress))
    assert isinstance(compress.cache, BundleCache)
    client = logged_in_client(app)
    bundle = _bundle(client)
    first = client.get(bundle, headers={"Accept-Encoding": "gzip"}).get_data()
    assert compress.cache.get(f"gzip;{bundle}?") == first or compress.cache.get(f"gzip;{bundle}") == first
    assert client.get(bundle, headers={"Accept-Encoding": "gzip"}).get_data() == first
    client.post("/_dash-update-component", json={}, headers={"Accept-Encoding": "gzip"})
    assert all(key.split(";", 1)[1].startswith(BUNDLE_PREFIX) for key in compress.cache._data)


def test_dash323_bundle_cache_keeps_only_bundles():  # type: ignore[no-untyped-def]
    class Req:
        def __init__(self, method: str, path: str) -> None:
            self.method, self.path, self.full_path = method, path, path + "?"

    cache = BundleCache(max_entries=1)
    assert bundle_key(Req("GET", "/_dash-component-suites/dash/x.js")) == "/_dash-component-suites/dash/x.js?"
    assert bundle_key(Req("POST", "/_dash-update-component")) == bundle_key(Req("GET", "/")) == ""
    cache.set("gzip;", b"callback")  # the key flask-compress makes for anything but a bundle
    assert cache.get("gzip;") is None
    cache.set("gzip;/a.js?", b"a")
    cache.set("gzip;/b.js?", b"b")  # over the bound: not kept
    assert cache.get("gzip;/a.js?") == b"a" and cache.get("gzip;/b.js?") is None


def _benchmark():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("dashboard_benchmark", ROOT / "benchmarks" / "dashboard.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_dash324_benchmark_runs_every_case(tmp_path):  # type: ignore[no-untyped-def]
    bench = _benchmark()
    wh = build_warehouse(tmp_path)
    try:
        target = bench.build_target(wh.settings)
        assert target.district_name.lower().startswith("kishanganj")
        with bench.Server(target.app.server) as server:
            client = bench.Client(server.port)
            assert bench.sign_in(target.app, client)
            latency = bench.run_latency(target, client, calls=2, rounds=1)
            maps = bench.map_update_bytes(target, client)
            first = bench.first_load_bytes(target, client)
            client.close()
        assert set(latency) == {c.name for c in bench.cases(target)}
        for name, result in latency.items():
            for state in ("cold", "warm"):
                assert result[state]["p95_ms"] > 0 and result[state]["p95_ratio"] > 0, name
        for change in maps.values():
            assert change["is_patch"] and not change["geometry_resent"]
            assert change["bytes"] <= bench.GOALS["map_update_bytes"]
        assert first["bytes"] < first["bytes_uncompressed"]
        assert any(f["path"].startswith("/geo/") for f in first["files"])
        verdict = bench.verdicts(latency, maps)
        assert verdict["map_update_bytes_ok"] is True
        json.dumps(verdict)
    finally:
        wh.drop()
