"""The browser tests' warehouse: the real small demo (``arogya demo --scale small --days 7``) with a pinned end date
and "today", built by the CLI in a temporary folder. The build starts in the background as soon as the session
knows it will run a browser test, so that in a full run it overlaps the other tests instead of adding to them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from etl.settings import PROJECT_ROOT

END_DATE = "2025-08-31"
DEMO_DAYS = 7
BUILD_TIMEOUT_S = 240


@dataclass
class DemoBuild:
    folder: Path
    process: subprocess.Popen
    log: Path
    started: float = field(default_factory=time.monotonic)

    @classmethod
    def start(cls) -> DemoBuild:
        folder = Path(tempfile.mkdtemp(prefix="arogya-browser-demo-"))
        env = {k: v for k, v in os.environ.items() if not k.startswith("AROGYA_")}
        env.update(AROGYA_DATA_DIR=str(folder / "data"), AROGYA_TODAY=END_DATE, AROGYA_QUIET="1",
                   AROGYA_PSEUDONYM_KEY="browser-test-pseudonym-key-0123456789abcdef")
        command = [sys.executable, "-m", "arogya_cli", "demo", "--scale", "small", "--days", str(DEMO_DAYS),
                   "--end-date", END_DATE, "--quiet"]
        log = folder / "demo.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL)
        return cls(folder=folder, process=process, log=log)

    @property
    def data_dir(self) -> Path:
        return self.folder / "data"

    def wait(self) -> Path:
        """The demo's data folder once the build has finished; fails with the build's output if it did not work."""
        remaining = max(1.0, BUILD_TIMEOUT_S - (time.monotonic() - self.started))
        try:
            code = self.process.wait(timeout=remaining)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise AssertionError(f"the demo build took over {BUILD_TIMEOUT_S} s:\n{self._tail()}") from None
        assert code == 0, f"the demo build failed ({code}):\n{self._tail()}"
        assert (self.data_dir / "arogya.sqlite").is_file(), f"the demo wrote no warehouse:\n{self._tail()}"
        return self.data_dir

    def seconds(self) -> float:
        return time.monotonic() - self.started

    def _tail(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-4000:]

    def cleanup(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        shutil.rmtree(self.folder, ignore_errors=True)
