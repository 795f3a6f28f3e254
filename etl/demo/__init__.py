"""The demo generator: export files that look like the real ones (facility and CHO masters, scheme workbooks,
daily consultation exports in their various formats, status events), calibrated to published figures, with the
faults real exports carry. It writes files only; the ETL loads them through its normal path."""

from etl.demo.generator import generate, today_ist
from etl.demo.plan import SCALES, DemoPlan, make_plan
from etl.demo.truth import DemoManifest, truth_path

__all__ = ["SCALES", "DemoManifest", "DemoPlan", "generate", "make_plan", "today_ist", "truth_path"]
