"""File readers of the drop folder: formats, encodings, row numbers, problems, rejections, landing order."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from etl.sources.files import (
    FileRejected,
    LandingFile,
    RawChunk,
    detect_dataset,
    file_sha256,
    list_landing_files,
    read_file,
)

HINDI_HEADERS = ["परामर्श आईडी", "लिंग", "आयु"]
HINDI_ROWS = [["C1", "महिला", "34"], ["C2", "पुरुष", "51"]]


def _write(tmp_path: Path, name: str, data: bytes | str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode(encoding) if isinstance(data, str) else data)
    return path


def _read(path: Path, **kw) -> tuple[list[str], list[list[str]], list[int], list[str], list[RawChunk]]:
    chunks = list(read_file(path, **kw))
    headers = list(chunks[0].frame.columns)
    rows = [list(r) for c in chunks for r in c.frame.itertuples(index=False, name=None)]
    numbers = [int(n) for c in chunks for n in c.row_numbers]
    problems = [p for c in chunks for p in c.problems]
    for c in chunks:
        assert c.row_numbers.dtype == np.int64
        assert len(c.problems) == len(c.frame) == len(c.row_numbers)
        assert all(type(v) is str for col in c.frame.columns for v in c.frame[col])
    return headers, rows, numbers, problems, chunks


def _xlsx(path: Path, sheets: dict[str, list[list]]) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


# -- delimited text ----------------------------------------------------------------------------------------------


def test_src001_utf8_csv(tmp_path):
    path = _write(tmp_path, "c.csv", "id,name,age\n1,Asha,34\n2,Ravi,51\n")
    headers, rows, numbers, problems, _ = _read(path)
    assert headers == ["id", "name", "age"]
    assert rows == [["1", "Asha", "34"], ["2", "Ravi", "51"]]
    assert numbers == [2, 3]
    assert problems == ["", ""]


def test_src002_utf8_bom_and_header_cleanup(tmp_path):
    path = _write(tmp_path, "c.csv", "\ufeff id , Name,name ,Name\r\n1,a,b,c\r\n")
    headers, rows, *_ = _read(path)
    assert headers == ["id", "Name", "name", "Name (2)"]
    assert rows == [["1", "a", "b", "c"]]


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_src003_utf16_tsv_with_bom(tmp_path, codec):
    text = "\t".join(HINDI_HEADERS) + "\r\n" + "".join("\t".join(r) + "\r\n" for r in HINDI_ROWS)
    bom = b"\xff\xfe" if codec == "utf-16-le" else b"\xfe\xff"
    for name in ("export.tsv", "export.txt"):  # Excel "Unicode text" is a tab-delimited .txt
        path = _write(tmp_path, name, bom + text.encode(codec))
        headers, rows, numbers, problems, _ = _read(path)
        assert headers == HINDI_HEADERS
        assert rows == HINDI_ROWS
        assert numbers == [2, 3] and problems == ["", ""]


def test_src004_utf16_without_bom_is_recognised(tmp_path):
    path = _write(tmp_path, "u.txt", "a\tb\r\n1\t2\r\n".encode("utf-16-le"))
    assert _read(path)[1] == [["1", "2"]]


@pytest.mark.parametrize(("delimiter", "name"), [(";", "s.csv"), ("\t", "t.csv"), ("\t", "t.txt"), (",", "c.txt")])
def test_src005_delimiter_sniffed_from_header(tmp_path, delimiter, name):
    text = delimiter.join(["id", "note", "x"]) + "\n" + delimiter.join(["1", '"a, b; c"', "3"]) + "\n"
    headers, rows, *_ = _read(_write(tmp_path, name, text))
    assert headers == ["id", "note", "x"]
    assert rows == [["1", "a, b; c", "3"]]


def test_src006_tsv_is_always_tab(tmp_path):
    headers, rows, *_ = _read(_write(tmp_path, "x.tsv", "a,b\tc\n1,2\t3\n"))
    assert headers == ["a,b", "c"] and rows == [["1,2", "3"]]


def test_src007_quoted_newlines_delimiters_and_quotes(tmp_path):
    text = 'id,note,n\n1,"line one\nline two, with comma",5\n2,"say ""hi""",6\n3,"a\r\nb",7\n4,x,8\n'
    headers, rows, numbers, problems, _ = _read(_write(tmp_path, "q.csv", text))
    assert rows == [
        ["1", "line one\nline two, with comma", "5"],
        ["2", 'say "hi"', "6"],
        ["3", "a\r\nb", "7"],
        ["4", "x", "8"],
    ]
    assert numbers == [2, 4, 5, 7]  # physical line where each record starts
    assert problems == [""] * 4


def test_src008_hindi_headers_and_values(tmp_path):
    text = ",".join(HINDI_HEADERS) + "\n" + "".join(",".join(r) + "\n" for r in HINDI_ROWS)
    headers, rows, *_ = _read(_write(tmp_path, "h.csv", text))
    assert headers == HINDI_HEADERS
    assert rows == HINDI_ROWS
    assert rows[0][1] == "महिला"


def test_src009_truncated_csv_last_row_gets_problem(tmp_path):
    header = ",".join(f"c{i}" for i in range(12))
    full = ",".join(str(i) for i in range(12))
    path = _write(tmp_path, "t.csv", f"{header}\n{full}\n{full}\n0,1,2")
    _, rows, numbers, problems, _ = _read(path)
    assert len(rows) == 3 and numbers == [2, 3, 4]
    assert problems[:2] == ["", ""]
    assert problems[2] == "row has 3 fields but the header has 12 (truncated file?)"
    assert rows[2] == ["0", "1", "2"] + [""] * 9


def test_src010_truncated_inside_quotes(tmp_path):
    path = _write(tmp_path, "t.csv", 'a,b\n1,2\n3,"unfinished note\nmore')
    _, rows, _, problems, _ = _read(path)
    assert rows[0] == ["1", "2"] and problems[0] == ""
    assert "unclosed quote" in problems[1]


def test_src011_long_and_short_rows_mid_file(tmp_path):
    path = _write(tmp_path, "l.csv", "a,b,c\n1,2,3\n1,2,3,4,5\n1,2\n7,8,9\n")
    _, rows, numbers, problems, _ = _read(path)
    assert numbers == [2, 3, 4, 5]
    assert problems == ["", "row has 5 fields but the header has 3", "row has 2 fields but the header has 3", ""]
    assert rows[1] == ["1", "2", "3"] and rows[2] == ["1", "2", ""]


def test_src012_empty_rows_skipped_and_numbers_kept(tmp_path):
    path = _write(tmp_path, "e.csv", "\n\na,b\n1,2\n\n,\n  , \n3,4\n,,\n")
    headers, rows, numbers, problems, _ = _read(path)
    assert headers == ["a", "b"]
    assert rows == [["1", "2"], ["3", "4"]]
    assert numbers == [4, 8]
    assert problems == ["", ""]


@pytest.mark.parametrize("variant", ["plain", "quoted", "crlf", "stray-quote"])
def test_src013_row_numbers_across_chunk_boundaries(tmp_path, variant):
    lines = ["id,v"]
    expected = []
    line = 2
    for i in range(11):
        if variant == "quoted" and i % 3 == 0:
            lines.append(f'{i},"multi\nline"')
            expected.append((line, [str(i), "multi\nline"]))
            line += 2
        else:
            value = 'x"y' if variant == "stray-quote" and i == 5 else f"v{i}"
            lines.append(f"{i},{value}")
            expected.append((line, [str(i), value]))
            line += 1
    eol = "\r\n" if variant == "crlf" else "\n"
    path = _write(tmp_path, "n.csv", eol.join(lines) + eol)
    _, rows, numbers, problems, chunks = _read(path, chunk_rows=3)
    sizes = [len(c.frame) for c in chunks]
    if variant == "stray-quote":  # the csv module reads around the stray quote; chunks stay within chunk_rows
        assert max(sizes) <= 3 and sum(sizes) == 11
    else:
        assert sizes == [3, 3, 3, 2]
    assert list(zip(numbers, rows, strict=True)) == [(n, r) for n, r in expected]
    assert problems == [""] * 11


def test_src014_chunks_are_bounded(tmp_path):
    text = "a,b\n" + "".join(f"{i},{i * 2}\n" for i in range(1000))
    chunks = list(read_file(_write(tmp_path, "big.csv", text), chunk_rows=128))
    assert all(len(c.frame) <= 128 for c in chunks)
    assert sum(len(c.frame) for c in chunks) == 1000
    assert np.concatenate([c.row_numbers for c in chunks]).tolist() == list(range(2, 1002))


def test_src015_lone_cr_line_endings(tmp_path):
    headers, rows, numbers, *_ = _read(_write(tmp_path, "mac.csv", "a,b\r1,2\r3,4\r"))
    assert headers == ["a", "b"] and rows == [["1", "2"], ["3", "4"]] and numbers == [2, 3]


def test_src016_truncated_mid_character_still_reads(tmp_path):
    data = "a,b\n1,महिला\n2,महिला".encode()[:-2]
    _, rows, *_ = _read(_write(tmp_path, "cut.csv", data))
    assert rows[0] == ["1", "महिला"] and rows[1][0] == "2"


# -- rejections --------------------------------------------------------------------------------------------------


def _rejected(path: Path, **kw) -> str:
    with pytest.raises(FileRejected) as err:
        read_file(path, **kw)  # raised by the call itself, before any chunk is taken
    assert err.value.reason == str(err.value)
    return str(err.value)


def test_src020_empty_file(tmp_path):
    assert "empty" in _rejected(_write(tmp_path, "e.csv", b""))
    assert "only whitespace" in _rejected(_write(tmp_path, "w.csv", "  \n\r\n\t\n"))
    assert "empty" in _rejected(_write(tmp_path, "b.csv", b"\xef\xbb\xbf"))


def test_src021_binary_content(tmp_path):
    rng = np.random.default_rng(7)
    data = bytearray(rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
    data[10] = 0
    assert "binary" in _rejected(_write(tmp_path, "r.csv", bytes(data)))


def test_src022_not_utf8_is_refused_not_guessed(tmp_path):
    reason = _rejected(_write(tmp_path, "l.csv", "a,b\n1,café\n".encode("latin-1")))
    assert "not valid UTF-8" in reason and "line 2" in reason


def test_src023_xlsx_bytes_named_csv(tmp_path):
    src = _xlsx(tmp_path / "x.xlsx", {"S": [["a"], [1]]})
    assert "workbook" in _rejected(_write(tmp_path, "x.csv", src.read_bytes()))


def test_src024_header_only(tmp_path):
    assert _rejected(_write(tmp_path, "h.csv", "a,b,c\n")) == "the file has a header but no data rows"
    assert "no data rows" in _rejected(_write(tmp_path, "h2.csv", "a,b,c\n\n,,\n"))


def test_src025_unsupported_extension(tmp_path):
    assert "unsupported file type '.pdf'" in _rejected(_write(tmp_path, "x.pdf", "a,b\n1,2\n"))
    assert "unsupported" in _rejected(_write(tmp_path, "noext", "a,b\n1,2\n"))


# -- XLSX --------------------------------------------------------------------------------------------------------


def test_src030_xlsx_first_sheet_types(tmp_path):
    path = _xlsx(
        tmp_path / "f.xlsx",
        {
            "Summary": [
                ["Facility ID", "Opened", "Visits", "Rate", "Active", "Slot", "Note"],
                ["SC001", dt.datetime(2025, 8, 1, 10, 30, 5), 12.0, 0.25, True, dt.time(9, 15), None],
                ["SC002", dt.date(2024, 1, 31), 7, 1e20, False, None, "महिला"],
                ["SC004", None, 91234567890.0, 1e-7],
                [None, None, None],
                ["SC003", dt.datetime(2025, 8, 1), 3],
                [],
                [],
            ],
            "Data": [["x"], [1]],
        },
    )
    headers, rows, numbers, problems, _ = _read(path)
    assert headers == ["Facility ID", "Opened", "Visits", "Rate", "Active", "Slot", "Note"]
    assert rows == [
        ["SC001", "2025-08-01T10:30:05", "12", "0.25", "TRUE", "09:15:00", ""],
        ["SC002", "2024-01-31", "7", "1e+20", "FALSE", "", "महिला"],
        ["SC004", "", "91234567890", "1e-07", "", "", ""],
        ["SC003", "2025-08-01", "3", "", "", "", ""],
    ]
    assert numbers == [2, 3, 4, 6]
    assert problems == ["", "", "", ""]


def test_src031_xlsx_named_sheet_and_extra_cells(tmp_path):
    sheets = {"Sheet1": [["nope"], [0]], "Data": [[], HINDI_HEADERS, *HINDI_ROWS, ["C3", "अन्य", "9", "x"]]}
    path = _xlsx(tmp_path / "g.xlsx", sheets)
    for sheet in ("Data", " data "):
        headers, rows, numbers, problems, _ = _read(path, sheet=sheet)
        assert headers == HINDI_HEADERS  # the first non-empty row
        assert rows == [*HINDI_ROWS, ["C3", "अन्य", "9"]]
        assert numbers == [3, 4, 5]
        assert problems == ["", "", "row has 4 fields but the header has 3"]


def test_src032_xlsx_chunks(tmp_path):
    path = _xlsx(tmp_path / "c.xlsx", {"S": [["a", "b"], *[[i, i * 2] for i in range(8)]]})
    _, rows, numbers, _, chunks = _read(path, chunk_rows=3)
    assert [len(c.frame) for c in chunks] == [3, 3, 2]
    assert numbers == list(range(2, 10)) and rows[7] == ["7", "14"]


def test_src033_xlsx_wrong_sheet(tmp_path):
    path = _xlsx(tmp_path / "s.xlsx", {"Sheet1": [["a"], [1]], "Data": [["a"], [1]]})
    assert _rejected(path, sheet="X") == "sheet 'X' not found; the workbook has: Sheet1, Data"


def test_src034_xlsx_truncated(tmp_path):
    good = _xlsx(tmp_path / "g.xlsx", {"S": [["a", "b"], *[[i, f"v{i}"] for i in range(200)]]})
    data = good.read_bytes()
    reason = _rejected(_write(tmp_path, "half.xlsx", data[: len(data) // 2]))
    assert "cannot be opened" in reason and "corrupt" in reason


def test_src035_xlsx_not_a_workbook_and_header_only(tmp_path):
    assert "cannot be opened" in _rejected(_write(tmp_path, "t.xlsx", "a,b\n1,2\n"))
    assert "no data rows" in _rejected(_xlsx(tmp_path / "h.xlsx", {"S": [["a", "b"]]}))
    assert "is empty" in _rejected(_xlsx(tmp_path / "e.xlsx", {"S": []}))


# -- JSON --------------------------------------------------------------------------------------------------------


def test_src040_json_array(tmp_path):
    data = [
        {"id": 1, "name": "Asha", "score": 12.0, "ok": True, "extra": None},
        {"id": 2, "name": "महिला", "score": 2.5, "nested": {"a": [1, 2]}},
        {"id": 3},
    ]
    headers, rows, numbers, problems, _ = _read(_write(tmp_path, "a.json", json.dumps(data, ensure_ascii=False)))
    assert headers == ["id", "name", "score", "ok", "extra", "nested"]
    assert rows == [
        ["1", "Asha", "12", "true", "", ""],
        ["2", "महिला", "2.5", "", "", '{"a": [1, 2]}'],
        ["3", "", "", "", "", ""],
    ]
    assert numbers == [1, 2, 3] and problems == ["", "", ""]


def test_src041_json_array_chunks_and_non_objects(tmp_path):
    data = [{"id": i} for i in range(5)] + [7]
    _, rows, numbers, problems, chunks = _read(_write(tmp_path, "a.json", json.dumps(data)), chunk_rows=2)
    assert [len(c.frame) for c in chunks] == [2, 2, 2]
    assert numbers == [1, 2, 3, 4, 5, 6]
    assert problems[-1] == "element is not a JSON object" and rows[-1] == [""]


def test_src042_json_lines(tmp_path):
    text = '{"id": 1, "a": "x"}\n\n{"id": 2, "b": 3}\n[1, 2]\n{"id": 4, "a": \n{"id": 5, "c": "z"}\r\n'
    headers, rows, numbers, problems, chunks = _read(_write(tmp_path, "l.jsonl", text), chunk_rows=3)
    assert numbers == [1, 3, 4, 5, 6]
    assert list(chunks[0].frame.columns) == ["id", "a", "b"]
    assert list(chunks[1].frame.columns) == ["id", "a", "b", "c"]  # later keys are appended, never removed
    assert problems[0] == problems[1] == ""
    assert problems[2].startswith("line is not a JSON object")
    assert problems[3].startswith("line is not valid JSON")
    assert [r[0] for r in rows] == ["1", "2", "", "", "5"]


def test_src043_ndjson_utf16(tmp_path):
    text = '{"लिंग": "महिला"}\n{"लिंग": "पुरुष"}\n'
    headers, rows, *_ = _read(_write(tmp_path, "s.ndjson", b"\xff\xfe" + text.encode("utf-16-le")))
    assert headers == ["लिंग"] and rows == [["महिला"], ["पुरुष"]]


def test_src044_json_rejections(tmp_path):
    reason = _rejected(_write(tmp_path, "m.json", '[{"id": 1},\n {"id": 2'))
    assert "not valid JSON" in reason and "line 2" in reason
    assert "top level is an object (keys: data)" in _rejected(_write(tmp_path, "o.json", '{"data": []}'))
    assert "no objects" in _rejected(_write(tmp_path, "n.json", "[1, 2]"))
    assert "empty" in _rejected(_write(tmp_path, "e.json", "[]"))
    assert "line 1" in _rejected(_write(tmp_path, "m.jsonl", "id,name\n1,x\n"))
    assert "line 2" in _rejected(_write(tmp_path, "p.jsonl", "\n[\n  {}\n]\n"))


# -- landing folder ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "dataset"),
    [
        ("consultations_2025-08-01.csv", "consultations"),
        ("Consultation-export.xlsx", "consultations"),
        ("Facilities-master.xlsx", "facilities"),
        ("facility list.csv", "facilities"),
        ("chos.csv", "chos"),
        ("CHO_roster.json", "chos"),
        ("schemes_2025_07.xlsx", "schemes"),
        ("scheme.csv", "schemes"),
        ("status_20250801.jsonl", "status"),
        ("STATUS.ndjson", "status"),
        ("chosen.csv", None),
        ("consultations2025.csv", None),
        ("export 1.xlsx", None),
        ("my_consultations.csv", None),
    ],
)
def test_src050_detect_dataset(name, dataset):
    assert detect_dataset(name) == dataset


def test_src051_landing_order_skips_and_manifest(tmp_path):
    for name in [
        "consultations_b.csv", "consultations_a.csv", "status_1.jsonl", "schemes_2025.xlsx", "chos.csv",
        "Facilities-master.xlsx", "mystery.csv", "export 1.xlsx", ".hidden.csv", "~$Facilities-master.xlsx",
        "upload.csv.part", "x.tmp", "consultations_old.csv.reason.txt",
    ]:  # fmt: skip
        _write(tmp_path, name, "a\n1\n")
    for sub in ("archive", "rejected"):
        (tmp_path / sub).mkdir()
        _write(tmp_path / sub, "consultations_z.csv", "a\n1\n")
    _write(tmp_path, "manifest.json", json.dumps({"files": {
        "export 1.xlsx": {"dataset": "consultations", "sheet": "Data"},
        "mystery.csv": "facilities",
        "chos.csv": {"dataset": "schemes"},
    }}))  # fmt: skip
    found = list_landing_files(tmp_path)
    assert [(f.path.name, f.dataset, f.sheet) for f in found] == [
        ("Facilities-master.xlsx", "facilities", None),
        ("mystery.csv", "facilities", None),
        ("chos.csv", "schemes", None),
        ("schemes_2025.xlsx", "schemes", None),
        ("status_1.jsonl", "status", None),
        ("consultations_a.csv", "consultations", None),
        ("consultations_b.csv", "consultations", None),
        ("export 1.xlsx", "consultations", "Data"),
    ]
    assert all(isinstance(f, LandingFile) and f.path.parent == tmp_path for f in found)


def test_src052_unknown_files_last_and_bad_manifest(tmp_path):
    _write(tmp_path, "zz.csv", "a\n1\n")
    _write(tmp_path, "consultations.csv", "a\n1\n")
    assert [f.dataset for f in list_landing_files(tmp_path)] == ["consultations", None]
    _write(tmp_path, "manifest.json", '{"files": {"zz.csv": {"dataset": "visits"}}}')
    with pytest.raises(ValueError, match="visits"):
        list_landing_files(tmp_path)


def test_src053_file_sha256(tmp_path):
    path = _write(tmp_path, "h.csv", b"a,b\n1,2\n")
    assert file_sha256(path) == hashlib.sha256(b"a,b\n1,2\n").hexdigest()


def test_src054_frame_is_plain_strings_object_dtype(tmp_path):
    chunk = next(read_file(_write(tmp_path, "d.csv", "a,b\n1,NaN\nNULL,\n")))
    assert chunk.frame.to_dict("list") == {"a": ["1", "NULL"], "b": ["NaN", ""]}
    assert all(str(dtype) == "object" for dtype in chunk.frame.dtypes)
    assert isinstance(chunk.frame.index, pd.RangeIndex)


def test_src055_slow_path_matches_fast_path(tmp_path):
    rows = [["1", "plain", "x"], ["2", "with, comma", 'q"uote'], ["3", "new\nline", ""], ["4", "महिला", "z"]]
    body = "".join(",".join('"' + v.replace('"', '""') + '"' if any(c in v for c in ',"\n') else v for v in r) + "\n"
                   for r in rows)  # fmt: skip
    fast = _read(_write(tmp_path, "f.csv", "id,a,b\n" + body))
    slow = _read(_write(tmp_path, "s.csv", "id,a,b\n" + body + '5,x"y,7\n'))  # a stray quote: csv module path
    assert slow[1][:4] == fast[1] == rows
    assert slow[2][:4] == fast[2] == [2, 3, 4, 6]
    assert slow[1][4] == ["5", 'x"y', "7"]


def test_src056_reading_does_not_modify_the_folder(tmp_path):
    path = _write(tmp_path, "consultations.csv", "a\n1\n")
    before = sorted(os.listdir(tmp_path))
    list(read_file(path))
    list_landing_files(tmp_path)
    assert sorted(os.listdir(tmp_path)) == before
