"""What the transforms need to know about the warehouse: the facility master, districts, indicators, specialties."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pandas as pd

from etl.contracts.base import normalise_choice
from etl.transform.pseudonym import Pseudonymiser

IST_TZ = timezone(timedelta(hours=5, minutes=30))
FACILITY_INDEX_COLUMNS = ["role", "district_lgd", "block_lgd", "service_start", "service_end", "service_days"]


def now_ist() -> datetime:
    return datetime.now(IST_TZ).replace(tzinfo=None)


@dataclass
class TransformContext:
    pseudonymiser: Pseudonymiser
    facilities: pd.DataFrame  # indexed by facility_id, FACILITY_INDEX_COLUMNS
    districts: set[int]
    indicators: set[str]
    specialties: dict[str, str]  # normalised code or name (English or Hindi) -> code
    now: datetime = field(default_factory=now_ist)
    new_specialties: dict[str, str] = field(default_factory=dict)  # code -> name seen first in this run

    def specialty_code(self, text: str) -> str:
        key = normalise_choice(text)
        code = self.specialties.get(key)
        if code is None:
            # From the key, not the text: spellings that share a key (case, spacing, Unicode form: a nukta or an
            # accent as one character or two) get one code in every process, the ETL's reader processes included.
            code = "".join(ch for ch in key.upper() if ch.isalnum())[:24] or "GEN"
            self.specialties[key] = code
            self.new_specialties.setdefault(code, text.strip()[:80])
        return code

    def add_facilities(self, frame: pd.DataFrame) -> None:
        """Make facilities just loaded known to the rest of the run."""
        update = frame.set_index("facility_id")[FACILITY_INDEX_COLUMNS]
        self.facilities = pd.concat([self.facilities[~self.facilities.index.isin(update.index)], update])
