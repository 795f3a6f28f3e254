"""The simulated officers of the load test: the locustfile that benchmarks/load.py runs (not meant to be run alone).

Each user starts like a browser (the app shell, Dash's layout and callback graph), then, with a few seconds to read
between views, opens pages: the page's layout through Dash's router callback (which also writes the page-view audit
row), then every callback the page fires on load, each a real ``POST /_dash-update-component`` body built by
benchmarks/load.py from the app's own callback map; or downloads a CSV export. Pages and views are drawn at random
from the plan, with the weights it gives.

A request fails when its status is not 200/204, or when a callback answers with the page's error card. Every
request is also written to the ``--samples`` file (time, name, milliseconds, failed), so load.py computes exact
percentiles and can separate the ramp-up from the steady state.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

from locust import HttpUser, between, events, task

PLAN: dict[str, Any] = {}
_SAMPLES: dict[str, Any] = {}


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    parser.add_argument("--plan", default="", help="the plan JSON written by benchmarks/load.py")
    parser.add_argument("--samples", default="", help="where to write one line per request")


@events.init.add_listener
def _load_plan(environment: Any, **_: Any) -> None:
    options = environment.parsed_options
    if not options or not options.plan:
        raise SystemExit("benchmarks/load_users.py is run by benchmarks/load.py (it needs --plan)")
    PLAN.update(json.loads(Path(options.plan).read_text(encoding="utf-8")))
    _SAMPLES["file"] = open(options.samples, "w", encoding="utf-8")  # noqa: SIM115 - closed on quit


@events.request.add_listener
def _record(name: str, response_time: float, exception: BaseException | None, **_: Any) -> None:
    out = _SAMPLES.get("file")
    if out is not None:
        out.write(f"{time.time():.3f}\t{name}\t{response_time:.2f}\t{0 if exception is None else 1}\n")


@events.quitting.add_listener
def _close(**_: Any) -> None:
    out = _SAMPLES.pop("file", None)
    if out is not None:
        out.close()


class Officer(HttpUser):
    """A signed-in state-wide user (the session cookie comes from the plan: one real sign-in through the form)."""

    wait_time = between(2, 5)

    def on_start(self) -> None:
        self.client.headers["Cookie"] = PLAN["cookie"]
        self.client.headers["Accept-Encoding"] = "gzip"
        for path in PLAN["shell"]:
            self._get(path, "shell" + (path if path != "/" else ""))

    # ------------------------------------------------------------ requests

    def _get(self, path: str, name: str) -> None:
        with self.client.get(path, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}: {response.text[:200]}")
            elif not response.content:
                response.failure("empty body")

    def _callback(self, body: dict[str, Any], name: str) -> None:
        with self.client.post("/_dash-update-component", json=body, name=name, catch_response=True) as response:
            if response.status_code not in (200, 204):
                response.failure(f"HTTP {response.status_code}: {response.text[:200]}")
            elif b"error-state" in response.content:
                response.failure("the callback answered with the page's error card")

    def _visit(self, page: str) -> None:
        view = random.choice(PLAN["pages"][page])
        self._callback(view["router"], f"{page}.layout")
        for callback in view["callbacks"]:
            self._callback(callback["body"], callback["name"])

    # ------------------------------------------------------------ tasks (weights: how often a page is opened)

    @task(3)
    def overview(self) -> None:
        self._visit("overview")

    @task(3)
    def district(self) -> None:
        self._visit("district")

    @task(1)
    def compare(self) -> None:
        self._visit("compare")

    @task(2)
    def hubs(self) -> None:
        self._visit("hubs")

    @task(2)
    def chos(self) -> None:
        self._visit("chos")

    @task(2)
    def schemes(self) -> None:
        self._visit("schemes")

    @task(1)
    def live(self) -> None:
        self._visit("live")

    @task(2)
    def export(self) -> None:
        chosen = random.choice(PLAN["exports"])
        self._get(chosen["path"], chosen["name"])
