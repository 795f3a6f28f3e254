"""The ground truth of a demo run (``demo_truth.json`` beside the landing folder): what was written, and what a
correct ETL must make of it."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

TRUTH_FILE = "demo_truth.json"


def truth_path(out_dir: Path) -> Path:
    """Where ``generate(out_dir)`` writes its ground truth: beside the landing folder, never inside it."""
    return Path(out_dir).parent / TRUTH_FILE


@dataclass
class DemoManifest:
    """Ground truth. ``consultations.by_day[i]``: rows written, ``valid`` (rows that load once every facility has
    arrived, duplicates not counted), ``late_facility`` (valid rows naming a facility of the late-additions file:
    quarantined on the first pass, loaded when the facility arrives), and each fault kind's count."""

    plan: dict
    files: list[dict] = field(default_factory=list)  # load order: name, dataset, format, rows
    facilities: dict = field(default_factory=dict)
    chos: dict = field(default_factory=dict)
    schemes: dict = field(default_factory=dict)
    consultations: dict = field(default_factory=dict)
    status: dict = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=1, default=str), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: Path) -> DemoManifest:
        return cls(**json.loads(Path(path).read_text(encoding="utf-8")))
