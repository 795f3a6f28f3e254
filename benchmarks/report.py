"""District review report benchmark (issue 8): how long a report takes as the print view (HTML), and printed by
headless Chromium as PDF and PNG, cold (nothing cached) and warm (the rendered file from the cache). Writes
benchmarks/results/report.json and prints the figures.

    .venv/bin/python benchmarks/report.py --data-dir /tmp/bench-small --today 2025-09-05 --month 2025-08
    .venv/bin/python benchmarks/report.py --data-dir /tmp/bench-state --district 203 --rounds 5

Requests go through the Flask test client of a real app, signed in through the sign-in form as a district user.
Cold: the result cache is cleared before every request, so the data functions and Chromium run in full. Timings on a
shared machine are noisy: the report gives medians over rounds and the machine's load average beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "benchmarks" / "results" / "report.json"


def signed_in_client(app: Any, district: int) -> Any:
    from dashboard.auth import users
    from dashboard.auth.session import EXTENSION

    name = f"bench-report-{os.getpid()}-{int(time.time())}"
    _, password = users.add_user(app.server.extensions[EXTENSION].engine, name, "district", districts=[district],
                                 states=[])
    client = app.server.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True))
    assert token, "no sign-in form"
    reply = client.post("/login", data={"username": name, "password": password, "csrf_token": token.group(1),
                                        "next": "/"})
    assert reply.status_code == 302, reply.status_code
    return client


def timed(client: Any, url: str, clear: Any | None) -> tuple[float, int]:
    if clear is not None:
        clear()
    start = time.perf_counter()
    reply = client.get(url)
    elapsed = time.perf_counter() - start
    assert reply.status_code == 200, (url, reply.status_code, reply.get_data(as_text=True)[:300])
    return elapsed, len(reply.get_data())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", required=True, type=Path, help="AROGYA_DATA_DIR of a loaded demo")
    parser.add_argument("--today", default="", help="AROGYA_TODAY for the demo (YYYY-MM-DD)")
    parser.add_argument("--district", type=int, default=203)
    parser.add_argument("--month", default="", help="YYYY-MM (default: the month before --today's)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--lang", default="hi")
    args = parser.parse_args(argv)

    os.environ["AROGYA_DATA_DIR"] = str(args.data_dir)
    os.environ.setdefault("AROGYA_REPORT_TIMEOUT", "240")
    if args.today:
        os.environ["AROGYA_TODAY"] = args.today
    from dashboard.app_factory import create_app
    from dashboard.report.month import ReportMonth
    from etl.settings import Settings

    settings = Settings.from_env()
    app = create_app(settings)
    runtime = app.server.extensions["arogya"]
    month = args.month or ReportMonth.of(runtime.today()).previous().code

    def clear() -> None:
        with app.server.app_context():
            runtime.data.cache.clear()
        runtime.data.forget_version()

    client = signed_in_client(app, args.district)
    base = f"/report/district/{args.district}"
    query = f"?month={month}&lang={args.lang}"
    samples: dict[str, list[float]] = {"html_cold": [], "html_warm": [], "pdf_cold": [], "pdf_warm": [],
                                       "png_cold": [], "png_warm": []}
    sizes: dict[str, int] = {}
    for _ in range(max(1, args.rounds)):
        for kind, suffix in (("html", ""), ("pdf", ".pdf"), ("png", ".png")):
            seconds, size = timed(client, base + suffix + query, clear)
            samples[f"{kind}_cold"].append(seconds)
            sizes[kind] = size
            samples[f"{kind}_warm"].append(timed(client, base + suffix + query, None)[0])
    result = {
        "district": args.district, "month": month, "lang": args.lang, "rounds": args.rounds,
        "database": settings.database_url.split(":", 1)[0], "chromium": settings.report_chromium,
        "load_average": os.getloadavg(), "cpus": os.cpu_count(),
        "median_s": {k: round(statistics.median(v), 3) for k, v in samples.items()},
        "max_s": {k: round(max(v), 3) for k, v in samples.items()},
        "bytes": sizes,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
