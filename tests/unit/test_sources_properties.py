"""Property tests of the file readers: robustness on arbitrary input, and parse/write/parse stability."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl.sources.delimited import _Reader
from etl.sources.files import FileRejected, read_file
from etl.sources.text import detect_encoding, open_utf8, scan_text

SETTINGS = settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])

# Pieces that matter to a CSV reader, mixed with arbitrary text.
_PIECES = [",", ";", "\t", '"', '""', "\n", "\r\n", "\r", " ", "\x00", "\ufeff", "a", "1", "महिला", "परामर्श आईडी", "é"]
_csvish = st.lists(st.one_of(st.sampled_from(_PIECES), st.text(max_size=5)), max_size=60).map("".join)
_text = st.one_of(_csvish, st.text(max_size=200))
_encodings = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be"])


def _collect(chunks) -> tuple[list[str], list[list[str]], list[int], list[str]]:
    headers: list[str] = []
    rows: list[list[str]] = []
    numbers: list[int] = []
    problems: list[str] = []
    for chunk in chunks:
        headers = list(chunk.frame.columns)
        assert len(chunk.frame) == len(chunk.row_numbers) == len(chunk.problems) > 0
        assert chunk.row_numbers.dtype == np.int64
        assert all(type(h) is str for h in headers) and len(set(headers)) == len(headers)
        for row in chunk.frame.itertuples(index=False, name=None):
            assert all(type(v) is str for v in row)
            rows.append(list(row))
        numbers.extend(int(n) for n in chunk.row_numbers)
        problems.extend(chunk.problems)
    assert numbers == sorted(set(numbers)) and all(n >= 1 for n in numbers)
    return headers, rows, numbers, problems


@SETTINGS
@given(
    text=_text,
    encoding=_encodings,
    ext=st.sampled_from([".csv", ".tsv", ".txt"]),
    chunk_rows=st.sampled_from([1, 2, 3, 50]),
)
def test_src201_arbitrary_text_reads_or_is_rejected(tmp_path_factory, text, encoding, ext, chunk_rows):
    path = tmp_path_factory.mktemp("any") / f"f{ext}"
    path.write_bytes(text.encode(encoding, "surrogatepass"))
    try:
        _collect(read_file(path, chunk_rows=chunk_rows))
    except FileRejected as exc:
        assert str(exc)


@SETTINGS
@given(data=st.binary(max_size=300), ext=st.sampled_from([".csv", ".json", ".jsonl", ".xlsx"]))
def test_src202_arbitrary_bytes_read_or_are_rejected(tmp_path_factory, data, ext):
    path = tmp_path_factory.mktemp("bin") / f"f{ext}"
    path.write_bytes(data)
    try:
        _collect(read_file(path, chunk_rows=2))
    except FileRejected as exc:
        assert str(exc)


_jsonish = st.lists(
    st.one_of(st.sampled_from(['{"a": 1}', '{"b": "महिला"}', "[", "]", ",", "\n", "null", '"x"', "{", "}", ":"]),
              st.text(max_size=4)),
    max_size=30,
).map("".join)  # fmt: skip


@SETTINGS
@given(text=_jsonish, ext=st.sampled_from([".json", ".jsonl", ".ndjson"]))
def test_src203_arbitrary_json_reads_or_is_rejected(tmp_path_factory, text, ext):
    path = tmp_path_factory.mktemp("json") / f"f{ext}"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        _collect(read_file(path, chunk_rows=2))
    except FileRejected as exc:
        assert str(exc)


# -- parse -> write -> parse ------------------------------------------------------------------------------------

_value_chars = st.sampled_from(list("ab1 ,;\t\"'\n\r-") + ["म", "हि", "ला", "।", "\u200d"])
_values = st.lists(_value_chars, max_size=8).map("".join)
_header_chars = st.sampled_from(list("abcXYZ_ ()#") + ["प", "रा", "म", "र्श"])
_header = st.lists(_header_chars, min_size=1, max_size=8).map("".join).map(str.strip).filter(bool)


@st.composite
def _tables(draw) -> tuple[list[str], list[list[str]], str]:
    headers = draw(st.lists(_header, min_size=1, max_size=6, unique=True))
    rows = draw(st.lists(st.lists(_values, min_size=len(headers), max_size=len(headers)), min_size=1, max_size=12))
    delimiter = draw(st.sampled_from([",", ";", "\t"])) if len(headers) > 1 else ","
    return headers, rows, delimiter


def _write_csv(path: Path, headers: list[str], rows: list[list[str]], delimiter: str, encoding: str) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(headers)
    writer.writerows(rows)
    bom = {"utf-16-le": "\ufeff", "utf-16-be": "\ufeff"}.get(encoding, "")  # UTF-16 needs its BOM
    path.write_bytes((bom + buffer.getvalue()).encode(encoding))


@SETTINGS
@given(table=_tables(), encoding=_encodings, chunk_rows=st.sampled_from([1, 3, 50]))
def test_src210_parse_write_parse_is_stable(tmp_path_factory, table, encoding, chunk_rows):
    headers, rows, delimiter = table
    folder = tmp_path_factory.mktemp("rt")
    first_path, second_path = folder / "first.csv", folder / "second.csv"
    _write_csv(first_path, headers, rows, delimiter, encoding)
    non_blank = [r for r in rows if any(v.strip(" \t\r\n") for v in r)]
    if not non_blank:
        try:
            read_file(first_path)
        except FileRejected:
            return
        raise AssertionError("a table of blank rows must be rejected")
    h1, rows1, _, problems1 = _collect(read_file(first_path, chunk_rows=chunk_rows))
    assert h1 == headers
    assert rows1 == non_blank
    assert problems1 == [""] * len(rows1)
    _write_csv(second_path, h1, rows1, delimiter, encoding)
    h2, rows2, _, problems2 = _collect(read_file(second_path, chunk_rows=chunk_rows))
    assert (h2, rows2, problems2) == (h1, rows1, problems1)


# -- the fast (numpy + pandas) path agrees with the csv module path -----------------------------------------------

_messy_pieces = [",", ",", '"', "\n", "\n", "\r\n", " ", "a", "bb", "1", "महिला", '""', ",,", "\r"]
_messy = st.lists(st.sampled_from(_messy_pieces), min_size=1, max_size=80).map("".join)


def _slow_only(path: Path, chunk_rows: int):
    """The whole file through the csv-module path alone."""
    with open(path, "rb") as fh:
        enc = detect_encoding(fh.read(4096))
    reader = _Reader(open_utf8(path, enc, scan_text(path, enc)), ",", chunk_rows)
    reader.dbyte = ord(",")
    while not reader.eof:
        reader._fill()

    def chunks():
        try:
            yield from reader._slow(len(reader.buf))
        finally:
            reader.src.close()
        if reader.headers is None or reader.rows_seen == 0:
            raise FileRejected("no data")

    return chunks()


@settings(deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(text=_messy, chunk_rows=st.sampled_from([1, 2, 3, 50]))
def test_src220_fast_path_matches_csv_module(tmp_path_factory, text, chunk_rows):
    path = tmp_path_factory.mktemp("fs") / "f.csv"
    path.write_text("h1,h2,h3\n" + text, encoding="utf-8", newline="")
    try:
        slow = _collect(_slow_only(path, chunk_rows))
    except FileRejected:
        slow = None
    try:
        fast = _collect(read_file(path, chunk_rows=chunk_rows))
    except FileRejected:
        fast = None
    assert fast == slow
