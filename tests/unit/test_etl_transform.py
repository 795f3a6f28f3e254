"""Contracts, parsers, pseudonymisation and the per-dataset rules (no database)."""

from __future__ import annotations

import hashlib
import hmac
import pickle
import stat
from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from etl.contracts import CONTRACTS, map_headers, normalise_header
from etl.contracts.docs import contracts_markdown
from etl.transform import parse
from etl.transform.context import TransformContext
from etl.transform.datasets import consultations, facilities
from etl.transform.pseudonym import Pseudonymiser, PseudonymKeyError, load_key
from etl.transform.validate import FileState, canonical_frame
from tests.conftest import make_settings

CONSULTATION_HEADERS = {
    "consultation_id": ["Consultation ID", "परामर्श आईडी", "consultation  id", "CONSULTATION_ID"],
    "started_at": ["Start Time", "Consultation Date", "परामर्श दिनांक"],
    "spoke_id": ["Spoke ID", "HWC ID", "स्पोक आईडी"],
    "hub_id": ["Hub ID", "हब आईडी"],
    "age": ["Age", "आयु"],
    "sex": ["Gender", "Sex", "लिंग"],
    "district_lgd": ["District LGD Code", "जिला कोड"],
    "block": ["Block", "प्रखंड"],
}


@pytest.mark.parametrize(("canonical", "header"), [(c, h) for c, hs in CONSULTATION_HEADERS.items() for h in hs])
def test_etl001_consultation_headers_recognised_in_english_and_hindi(canonical: str, header: str) -> None:
    hm = map_headers(CONTRACTS["consultations"], [header, f"  {header.upper()}  "])
    assert hm.columns.get(header) == canonical


def test_etl002_header_normalisation_ignores_case_spacing_and_bom() -> None:
    assert normalise_header("\ufeffSpoke  ID ") == normalise_header("spoke_id") == normalise_header("SPOKE-ID")


def test_etl003_missing_required_and_unknown_headers_reported() -> None:
    hm = map_headers(CONTRACTS["consultations"], ["Consultation ID", "Age", "Favourite colour"])
    assert "started_at" in hm.missing_required and "spoke_id" in hm.missing_required
    assert hm.unknown == ("Favourite colour",)


@pytest.mark.parametrize(("raw", "expected"), [
    ("2025-08-01 10:15:00", datetime(2025, 8, 1, 10, 15)),
    ("2025-08-01T10:15:00+05:30", datetime(2025, 8, 1, 10, 15)),
    ("2025-08-01T04:45:00Z", datetime(2025, 8, 1, 10, 15)),
    ("2025-08-01T10:15:00+0000", datetime(2025, 8, 1, 15, 45)),
    ("01-08-2025 10:15", datetime(2025, 8, 1, 10, 15)),
    ("01/08/2025 10:15", datetime(2025, 8, 1, 10, 15)),
    ("01-08-2025", datetime(2025, 8, 1)),
    ("45870", datetime(2025, 8, 1)),
    ("45870.4270833333", datetime(2025, 8, 1, 10, 15)),
])
def test_etl004_datetime_formats_parse_to_ist(raw: str, expected: datetime) -> None:
    values, bad = parse.parse_datetime(pd.Series([raw]))
    assert not bad.iloc[0]
    assert values.iloc[0].to_pydatetime() == expected


@pytest.mark.parametrize("raw", ["31-02-2025", "2025-13-01", "yesterday", "12", "1/2"])
def test_etl005_unreadable_dates_are_bad_not_guessed(raw: str) -> None:
    values, bad = parse.parse_datetime(pd.Series([raw]))
    assert bad.iloc[0] and pd.isna(values.iloc[0])


def test_etl006_empty_values_are_missing_not_bad() -> None:
    for parser in (parse.parse_datetime, parse.parse_int, parse.parse_float, parse.parse_month):
        values, bad = parser(pd.Series(["", "  "]))
        assert not bad.any() and values.isna().all()


def test_etl007_choices_accept_hindi_and_any_case() -> None:
    field = CONTRACTS["consultations"].field("sex")
    values, bad = parse.parse_choice(pd.Series(["पुरुष", "महिला", "अन्य", "FEMALE", "m", "x"]), field.choices)
    assert values.tolist()[:5] == ["M", "F", "O", "F", "M"]
    assert bad.tolist() == [False] * 5 + [True]


def test_etl008_month_and_service_days() -> None:
    months, bad = parse.parse_month(pd.Series(["2025-08", "08/2025", "Aug 2025", "15-08-2025", "13-2025"]))
    assert [m.strftime("%Y-%m-%d") for m in months[:4]] == ["2025-08-01"] * 4
    assert bad.tolist() == [False, False, False, False, True]
    days, bad = parse.parse_service_days(pd.Series(["Mon,Thu,Sat", "Tue-Fri", "daily", "1111110", "someday"]))
    assert days.tolist()[:4] == ["1001010", "0111100", "1111111", "1111110"]
    assert bad.tolist() == [False, False, False, False, True]


def test_etl009_hmac_tokens_are_keyed_stable_and_normalised() -> None:
    a, b = Pseudonymiser(b"k" * 32), Pseudonymiser(b"j" * 32)
    t1 = a.token("abha", "91-1234-5678-9012")
    assert t1 == a.token("abha", "91123456789012") and len(t1) == 32
    assert t1 != b.token("abha", "91-1234-5678-9012")
    assert "91123456789012" not in t1
    assert a.token("phone", "+91 98765 43210") == a.token("phone", "9876543210")
    assert a.token("abha", "123") is None
    assert a.token("abha", "hmac:" + t1) == t1  # already tokenised values pass through


@pytest.mark.parametrize("key", [b"k", b"k" * 32, bytes(range(64)), bytes(range(65)), "कुंजी".encode() * 20])
def test_etl070_tokens_are_hmac_sha256_of_kind_and_value(key: bytes) -> None:
    """The pads hashed once give the same tokens as the standard library's HMAC, for keys shorter than, as long
    as and longer than SHA-256's block (a longer key is hashed first)."""
    p = Pseudonymiser(key)

    def expected(message: str, hex_chars: int) -> str:
        return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()[:hex_chars]

    assert p.token("abha", "91-1234-5678-9012") == expected("abha:91123456789012", 32)
    assert p.token("doctor", " dr-7 ", 24) == expected("doctor:DR-7", 24)
    column = pd.Series(["+91 98765 43210", "98765 43210", None, "12"], dtype=object)
    assert p.tokens("phone", column).tolist() == [expected("phone:9876543210", 32)] * 2 + [None, None]
    copied = pickle.loads(pickle.dumps(p))  # e.g. into a process started by spawn: made again from the key
    assert copied.token("abha", "91-1234-5678-9012") == expected("abha:91123456789012", 32)


def test_etl010_key_file_created_0600_outside_the_database(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(tmp_path).with_(pseudonym_key="")
    key = load_key(settings)
    assert len(key) >= 32 and load_key(settings) == key
    mode = stat.S_IMODE(settings.pseudonym_key_file.stat().st_mode)
    assert mode == 0o600
    settings.pseudonym_key_file.chmod(0o644)
    with pytest.raises(PseudonymKeyError):
        load_key(settings)


def _ctx() -> TransformContext:
    facilities_index = pd.DataFrame(
        {"role": ["spoke", "hub"], "district_lgd": [203, 203], "block_lgd": [20301, 20301],
         "service_start": ["09:00", "09:00"], "service_end": ["16:00", "16:00"],
         "service_days": ["1111111", "1111110"]},
        index=pd.Index(["S1", "H1"], name="facility_id"))
    return TransformContext(Pseudonymiser(b"k" * 32), facilities_index, {203}, {"FOOTFALL"}, {"gen": "GEN"},
                            now=datetime(2025, 8, 10, 12, 0))


def _consultation_frame(rows: list[dict[str, str]]) -> pd.DataFrame:
    contract = CONTRACTS["consultations"]
    frame = pd.DataFrame(rows, dtype=object).fillna("")
    return canonical_frame(frame, map_headers(contract, list(frame.columns)), contract)


def _good_row(**overrides: str) -> dict[str, str]:
    row = {"Consultation ID": "C1", "Start Time": "2025-08-01 10:15", "End Time": "2025-08-01 10:25",
           "Spoke ID": "S1", "Hub ID": "H1", "Age": "34", "Gender": "महिला", "ABHA Number": "91-1234-5678-9012",
           "Patient Name": "Test Person", "Wait Time": "7"}
    row.update(overrides)
    return row


def test_etl011_consultation_rules_quarantine_each_fault_with_reason() -> None:
    rows = [
        _good_row(),
        _good_row(**{"Consultation ID": "C2", "End Time": "2025-08-01 10:00"}),
        _good_row(**{"Consultation ID": "C3", "Start Time": "2030-01-01 10:00", "End Time": ""}),
        _good_row(**{"Consultation ID": "C4", "Start Time": "2018-05-01 10:00", "End Time": ""}),
        _good_row(**{"Consultation ID": "C5", "Age": "130"}),
        _good_row(**{"Consultation ID": "C6", "Spoke ID": "NOPE"}),
        _good_row(**{"Consultation ID": "C1"}),
        _good_row(**{"Consultation ID": "C8", "Gender": "?"}),
        _good_row(**{"Consultation ID": "", "Age": "5"}),
    ]
    frame = _consultation_frame(rows)
    result = consultations(frame, np.arange(2, 2 + len(rows)), [""] * len(rows), _ctx(), FileState())
    assert result.rows["consultation_id"].tolist() == ["C1"]
    codes = dict(zip(result.rejects["natural_key"], result.rejects["reason_code"], strict=False))
    assert codes["C2"] == "end_before_start"
    assert codes["C3"] == "start_in_future"
    assert codes["C4"] == "start_too_old"
    assert codes["C5"] == "age_out_of_range"
    assert codes["C6"] == "unknown_facility"
    assert codes["C8"] == "bad_value"
    assert codes[""] == "missing_field"
    dup = result.rejects[result.rejects["reason_code"] == "duplicate_in_file"]
    assert dup["row_number"].tolist() == [8] and "first at row 2" in dup["reason"].iloc[0]
    # Quarantined raw values keep no patient identifier and no name.
    for raw in result.rejects["raw"]:
        assert "patient_name" not in raw
        assert raw["abha_number"].startswith("hmac:") and "9012" not in raw["abha_number"]


def test_etl012_consultation_row_is_pseudonymised_and_enriched() -> None:
    frame = _consultation_frame([_good_row(), _good_row(**{"Consultation ID": "C2", "Start Time": "2025-08-03 17:30",
                                                           "End Time": "2025-08-03 17:40"})])
    result = consultations(frame, np.array([2, 3]), ["", ""], _ctx(), FileState())
    row = result.rows.iloc[0]
    assert row["sex"] == "F" and row["district_lgd"] == 203 and row["block_lgd"] == 20301
    assert row["duration_minutes"] == 10.0 and row["hour"] == 10 and not row["outside_hours"]
    assert len(row["patient_token"]) == 32 and "9012" not in row["patient_token"]
    assert row["specialty_code"] == "GEN" and row["mode"] == "ABHWC" and row["outcome"] == "completed"
    assert "patient_name" not in result.rows.columns
    assert result.rows.iloc[1]["outside_hours"]  # 17:30 is after the hub's 16:00 close


def test_etl013_duplicate_ids_across_chunks_of_one_file() -> None:
    state, ctx = FileState(), _ctx()
    first = consultations(_consultation_frame([_good_row()]), np.array([2]), [""], ctx, state)
    second = consultations(_consultation_frame([_good_row()]), np.array([3]), [""], ctx, state)
    assert len(first.rows) == 1 and second.rows.empty
    assert second.rejects["reason_code"].tolist() == ["duplicate_in_file"]


def test_etl014_facility_rules() -> None:
    contract = CONTRACTS["facilities"]
    frame = pd.DataFrame([
        {"Facility ID": "F1", "Facility Name": "HSC A", "Facility Type": "HSC", "Role": "Spoke",
         "District LGD Code": "203", "Latitude": "26.1", "Longitude": "87.9", "Hub ID": "H1"},
        {"Facility ID": "F2", "Facility Name": "X", "Facility Type": "PHC", "Role": "hub",
         "District LGD Code": "999", "Latitude": "", "Longitude": ""},
        {"Facility ID": "F3", "Facility Name": "Y", "Facility Type": "PHC", "Role": "hub",
         "District LGD Code": "203", "Latitude": "51.5", "Longitude": "0.1"},
        {"Facility ID": "F4", "Facility Name": "Z", "Facility Type": "castle", "Role": "hub",
         "District LGD Code": "203", "Latitude": "", "Longitude": ""},
    ], dtype=object)
    canonical = canonical_frame(frame, map_headers(contract, list(frame.columns)), contract)
    result = facilities(canonical, np.arange(2, 6), [""] * 4, _ctx(), FileState())
    assert result.rows["facility_id"].tolist() == ["F1"]
    assert result.rows.iloc[0]["facility_type"] == "SC" and result.rows.iloc[0]["role"] == "spoke"
    assert result.rows.iloc[0]["service_start"] == "09:00" and result.rows.iloc[0]["service_days"] == "1111111"
    assert sorted(result.rejects["reason_code"]) == ["bad_coordinates", "bad_value", "unknown_district"]


def test_etl015_contracts_markdown_lists_every_field() -> None:
    text = contracts_markdown()
    for contract in CONTRACTS.values():
        for f in contract.fields:
            assert f"`{f.name}`" in text


def test_etl016_fast_paths_give_what_the_general_parsers_give() -> None:
    values = pd.Series(["2025-08-01T09:30:00", " 2025-08-01T23:59:59 ", "2025-08-01T09:30:00+00:00",
                        "2025-8-1T09:30:00", "2025-08-01T25:00:00", "01-08-2025 09:30", "45870", "", "x"],
                       dtype=object)
    parsed, bad = parse.parse_datetime(values)
    assert parsed.tolist()[:3] == [pd.Timestamp("2025-08-01 09:30"), pd.Timestamp("2025-08-01 23:59:59"),
                                   pd.Timestamp("2025-08-01 15:00")]
    assert parsed[5] == pd.Timestamp("2025-08-01 09:30") and parsed[6] == pd.Timestamp("2025-08-01")
    # Unpadded ISO and a 25th hour are unreadable (as they were before the one-pass ISO parse), never shifted.
    assert bad.tolist() == [False, False, False, True, True, False, False, False, True]
    assert parsed[bad].isna().all()
    assert parse.clean_text(pd.Series([" a ", None, 3, "\tb\n"], dtype=object)).tolist() == ["a", "", "3", "b"]
    number, bad_number = parse.parse_int(pd.Series(["1,234", "12.0", "1.5", ""], dtype=object))
    assert number.tolist()[:2] == [1234, 12] and bad_number.tolist() == [False, False, True, False]


def test_etl066_space_separated_iso_takes_the_fast_path_with_the_same_results() -> None:
    """Exports from databases write a space between date and time: the one-pass parse takes that layout too (the
    first value's layout first, then the other), with what the ISO parser gives and the same unreadable values;
    only values of exactly that shape take it."""
    values = pd.Series(["2025-08-01 09:30:00", "2025-08-01T10:00:00", "2025-08-01 25:00:00", "2025-02-30 10:00:00",
                        "2025-08-01 23:59:59", "2025-08-01 09:30", "2025-08-01 09:30:00+05:30"], dtype=object)
    parsed, bad = parse.parse_datetime(values)
    assert bad.tolist() == [False, False, True, True, False, False, False]
    assert parsed[~bad].tolist() == [pd.Timestamp("2025-08-01 09:30"), pd.Timestamp("2025-08-01 10:00"),
                                     pd.Timestamp("2025-08-01 23:59:59"), pd.Timestamp("2025-08-01 09:30"),
                                     pd.Timestamp("2025-08-01 09:30")]
    for one in values:  # each value alone (its own layout first) reads the same
        alone, alone_bad = parse.parse_datetime(pd.Series([one], dtype=object))
        at = values.tolist().index(one)
        assert alone_bad.iloc[0] == bad[at] and (alone_bad.iloc[0] or alone.iloc[0] == parsed[at])
    # What strptime alone would bend is left to the ISO parse, which rejects it: another whitespace for the space,
    # one-digit fields, a 60th second (never rolled into the next day, in either layout).
    bent = pd.Series(["2025-08-01\t09:30:00", "2025-08-01\u00a009:30:00", "2025-8-1   09:30:00", "2025-08-01  9:30:00",
                      "2025-12-31 23:59:60", "2025-12-31T23:59:60", "2025-12-31 23:59:59"], dtype=object)
    parsed, bad = parse.parse_datetime(bent)
    assert bad.tolist() == [True] * 6 + [False]
    assert parsed.iloc[-1] == pd.Timestamp("2025-12-31 23:59:59") and parsed.iloc[:6].isna().all()


def test_etl017_column_tokens_equal_one_by_one_tokens() -> None:
    p = Pseudonymiser(b"k" * 32)
    values = pd.Series(["91-1234-5678-9012", "91-1234-5678-9012", "", None, "12", "hmac:abc", "hmac:"], dtype=object)
    expected = [p.token("abha", v) if v else None for v in values.fillna("")]
    assert p.tokens("abha", values).tolist() == expected
    assert expected[0] and expected[4] is None and expected[5] == "abc" and expected[6] is None


def test_etl018_sqlite_timestamp_text_matches_strftime() -> None:
    from sqlalchemy import Date, DateTime

    from etl.load.bulk import SQLITE_DATE, SQLITE_DATETIME, column_values

    stamps = pd.Series(pd.to_datetime(["2025-08-01 09:30:00", None, "1999-12-31 23:59:59.123456"], format="ISO8601"))
    assert column_values(stamps, DateTime(), "sqlite") == [
        None if pd.isna(s) else s.strftime(SQLITE_DATETIME) for s in stamps]
    assert column_values(stamps, Date(), "sqlite") == [None if pd.isna(s) else s.strftime(SQLITE_DATE) for s in stamps]
    # Days repeat (a running total's block: each day once per key), each formatted once; NaT first, times dropped
    # (before 1970 too).
    days = pd.Series(pd.to_datetime([None, "2025-08-02", "2025-08-01 23:59:59", "1969-12-31 23:00", "2025-08-02",
                                     None], format="ISO8601"), index=[5, 3, 9, 1, 0, 2])
    assert column_values(days, Date(), "sqlite") == [None if pd.isna(s) else s.strftime(SQLITE_DATE) for s in days]
