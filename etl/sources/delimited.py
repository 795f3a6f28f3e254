"""CSV / TSV reader.

Fast path: numpy finds record boundaries, physical line numbers and field counts on the raw UTF-8 bytes (a newline
ends a record when an even number of quotes precedes it), then pandas' C parser turns each run of ``chunk_rows``
records into cells. That parity model is exact for RFC 4180 quoting, so the bytes are checked first: from a quote
that neither opens, closes nor doubles a field, a lone CR, or a quote left open at the end of the file, Python's
``csv`` module reads the records (it reads anything) until the line after the trouble, and the fast path resumes at
the next record boundary. Both paths give the same cells, row numbers and problems (a property test checks this).
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.errors import ParserWarning

from etl.sources.base import (
    FileRejected,
    RawChunk,
    clean_headers,
    field_count_problem,
    frame_from_columns,
    frame_from_rows,
)
from etl.sources.text import detect_encoding, open_utf8, scan_text, sniff_delimiter

READ_BLOCK = 4 << 20
MAX_PENDING = 32 << 20  # no record boundary in this many bytes: let the slow path deal with it
_BLANK = " \t\r\n"
_BLANK_BYTES = np.frombuffer(_BLANK.encode(), np.uint8)
_QUOTE, _LF, _CR = 34, 10, 13
_EXACT_COUNT_MAX = 2000
_LINE_END = re.compile(rb"\r\n|\r|\n")
_NO_HEADER = "the file has no header row: every line is empty"


def read_delimited(path: Path, *, delimiter: str | None = None, chunk_rows: int = 50_000) -> Iterator[RawChunk]:
    """Chunks of a delimited text file. ``delimiter`` None: sniffed from the header line."""
    with open(path, "rb") as fh:
        head = fh.read(4096)
    enc = detect_encoding(head)
    end = scan_text(path, enc)
    return _Reader(open_utf8(path, enc, end), delimiter, max(1, chunk_rows)).chunks()


def is_blank_row(row: list[str]) -> bool:
    return not any(v.strip(_BLANK) for v in row)


@dataclass
class _Region:
    """Whole records cut off the buffer, with the positions the cut already found."""

    data: bytes
    a: np.ndarray  # data as uint8
    nl: np.ndarray  # positions of every LF
    q: np.ndarray  # positions of every quote
    ends: np.ndarray  # positions of the LFs that end a record


class _Reader:
    def __init__(self, src: io.RawIOBase, delimiter: str | None, chunk_rows: int) -> None:
        self.src = src
        self.delimiter = delimiter
        self.dbyte = 0
        self.chunk_rows = chunk_rows
        self.buf = b""
        self.eof = False
        self.line = 1  # physical line number of buf[0]
        self.headers: list[str] | None = None
        self.rows_seen = 0
        self.record_bytes = 0.0  # running estimate, so one read usually brings a whole chunk

    def chunks(self) -> Iterator[RawChunk]:
        try:
            yield from self._chunks()
        except UnicodeDecodeError as exc:  # only if the file changed after the up-front scan
            raise FileRejected(f"the file changed while it was being read ({exc.reason})") from None
        finally:
            self.src.close()
        if self.headers is None:
            raise FileRejected(_NO_HEADER)
        if self.rows_seen == 0:
            raise FileRejected("the file has a header but no data rows")

    def _fill(self, size: int = READ_BLOCK) -> None:
        data = self.src.read(max(size, READ_BLOCK))
        if data:
            self.buf += data
        else:
            self.eof = True

    def _chunks(self) -> Iterator[RawChunk]:
        self._fill()
        if self.delimiter is None:
            self.delimiter = sniff_delimiter(self.buf[:65536].decode("utf-8", "ignore").lstrip(_BLANK))
        self.dbyte = ord(self.delimiter)
        while True:
            region = self._cut(1 if self.headers is None else self.chunk_rows)
            if isinstance(region, int):
                yield from self._slow(region)
                continue
            if not region.data:
                return
            if self.headers is None:
                text = region.data.decode("utf-8")
                row = next(csv.reader(io.StringIO(text, newline=""), delimiter=self.delimiter), [])
                self.line += len(region.nl)
                if not is_blank_row(row):
                    self.headers = clean_headers(row)
                continue
            chunk = self._parse(region)
            if chunk is None:  # pandas saw it differently: let the csv module decide
                self.buf = region.data + self.buf
                yield from self._slow(len(region.data))
                continue
            self.line += len(region.nl)
            if len(chunk):
                self.rows_seen += len(chunk)
                yield chunk

    def _cut(self, need: int) -> _Region | int:
        """The next ``need`` records off the buffer (data b"" at the end of the file), or, where the parity model
        does not hold, the number of buffered bytes the slow path must read before the fast path can resume."""
        want = int(self.record_bytes * need * 1.02) + 4096
        if not self.eof and len(self.buf) < min(want, MAX_PENDING):
            self._fill(min(want, MAX_PENDING) - len(self.buf))
        while True:
            a = np.frombuffer(self.buf, np.uint8)
            nl = np.flatnonzero(a == _LF)
            q = np.flatnonzero(a == _QUOTE)
            ends = nl[(np.searchsorted(q, nl) & 1) == 0] if len(q) else nl
            bad = self._first_bad(a, q)
            good = ends[ends < bad] if bad < len(a) else ends
            if len(good) >= need and (good[need - 1] + 1 < len(a) or self.eof):
                cut, records = int(good[need - 1]) + 1, need
                break
            if bad < len(a) or (len(a) > MAX_PENDING and not len(good)):
                if len(good):  # the records before the trouble still take the fast path
                    cut, records = int(good[-1]) + 1, len(good)
                    break
                after = nl[nl >= bad]
                return int(after[0]) + 1 if len(after) else len(a)
            if self.eof:
                cut, records = len(a), len(ends) + 1
                break
            if len(a) > MAX_PENDING:
                cut, records = int(good[-1]) + 1, len(good)
                break
            self._fill(len(self.buf))
        self.record_bytes = cut / records
        data, self.buf = self.buf[:cut], self.buf[cut:]
        return _Region(data, a[:cut], nl[nl < cut], q[q < cut], ends[ends < cut])

    def _first_bad(self, a: np.ndarray, q: np.ndarray) -> int:
        """Offset of the first thing the parity model gets wrong (len(a) if none): a lone CR, a quote that neither
        opens nor closes a field nor is doubled, or a quote still open at the end of the file."""
        n = len(a)
        bad = n
        if b"\r" in self.buf:
            cr = np.flatnonzero(a == _CR)
            following = a[np.minimum(cr + 1, n - 1)]
            lone = cr[(following != _LF) & ((cr + 1 < n) | self.eof)]
            if len(lone):
                bad = int(lone[0])
        if len(q) == 0:
            return bad
        adj_prev = np.zeros(len(q), bool)
        adj_prev[1:] = q[1:] == q[:-1] + 1
        adj_next = np.zeros(len(q), bool)
        adj_next[:-1] = adj_prev[1:]
        ok = np.empty(len(q), bool)
        qo = q[0::2]
        before = a[np.maximum(qo - 1, 0)]
        ok[0::2] = (qo == 0) | (before == self.dbyte) | (before == _LF) | adj_prev[0::2]
        qc = q[1::2]
        after = a[np.minimum(qc + 1, n - 1)]
        ok[1::2] = (qc + 1 == n) | (after == self.dbyte) | (after == _CR) | (after == _LF) | adj_next[1::2]
        wrong = q[~ok]
        if len(wrong):
            bad = min(bad, int(wrong[0]))
        if self.eof and len(q) % 2:
            bad = min(bad, int(q[-1]))
        return bad

    def _parse(self, r: _Region) -> RawChunk | None:
        assert self.headers is not None
        m = len(self.headers)
        a = r.a
        starts = np.concatenate(([0], r.ends + 1))
        stops = np.concatenate((r.ends, [len(a)]))
        if starts[-1] == len(a):
            starts, stops = starts[:-1], stops[:-1]
        n = len(starts)
        length = stops - starts
        # pandas raises on a row longer than ``names`` and pads a short one with "", so a short row must end in "":
        # those few rows are counted exactly; if there are many, all rows are counted with numpy.
        # (pandas also quietly drops an empty extra field when the region's first line has one, hence its own check)
        first_ok = n == 0 or self._count_fields(r.data[starts[0] : stops[0]]) <= m
        df = self._pandas(r.data, m) if first_ok else None
        if df is not None and len(df) == n:
            width = m
            cols = [df[j].to_numpy(dtype=object, copy=False) for j in range(m)]
            empty = self._empty_rows(a, starts, length, cols)
            maybe_short = np.flatnonzero((cols[-1] == "") & ~empty)
            counts = np.full(n, m)
            if len(maybe_short) <= _EXACT_COUNT_MAX:
                for i in maybe_short.tolist():
                    counts[i] = self._count_fields(r.data[starts[i] : stops[i]])
            elif self._outside_delimiters(r) != (m - 1) * (n - int(_blank_lines(a, starts, length).sum())):
                counts = self._field_counts(r, starts, stops, length)
        else:
            counts = self._field_counts(r, starts, stops, length)
            width = max(1, int(counts.max()) if n else 1)
            df = self._pandas(r.data, width)
            if df is None or len(df) != n:
                return None
            cols = [df[j].to_numpy(dtype=object, copy=False) for j in range(width)]
            empty = self._empty_rows(a, starts, length, cols)
            cols = cols[:m] + [np.full(n, "", dtype=object) for _ in range(m - width)]
        row_numbers = self.line + (np.searchsorted(r.nl, starts) if len(r.q) else np.arange(n)).astype(np.int64)
        problems = [""] * n
        if not self.buf and not self.eof:
            self._fill()  # is this region the end of the file? (only the very last row gets the truncation hint)
        last = n - 1 if self.eof and not self.buf else -1
        for i in np.flatnonzero((counts != m) & ~empty).tolist():
            problems[i] = field_count_problem(int(counts[i]), m, last=i == last)
        frame = frame_from_columns(self.headers, cols)
        if empty.any():
            keep = ~empty
            frame = frame.loc[keep].reset_index(drop=True)
            row_numbers = row_numbers[keep]
            problems = [p for p, k in zip(problems, keep, strict=True) if k]
        return RawChunk(frame, row_numbers, problems)

    def _count_fields(self, record: bytes) -> int:
        text = record.decode("utf-8")
        if not text.strip("\r"):
            return 0
        return len(next(csv.reader(io.StringIO(text, newline=""), delimiter=self.delimiter or ",")))

    def _outside_delimiters(self, r: _Region) -> int:
        if not len(r.q):
            return int(np.count_nonzero(r.a == self.dbyte))
        opening, closing = r.q[0::2][: len(r.q) // 2], r.q[1::2]
        if len(closing) < 4096:
            count, delim = r.data.count, bytes([self.dbyte])
            inside = sum(count(delim, o, c) for o, c in zip(opening.tolist(), closing.tolist(), strict=True))
            return int(np.count_nonzero(r.a == self.dbyte)) - inside
        d = np.flatnonzero(r.a == self.dbyte)
        return len(d) - int((np.searchsorted(d, closing) - np.searchsorted(d, opening)).sum())

    def _field_counts(self, r: _Region, starts: np.ndarray, stops: np.ndarray, length: np.ndarray) -> np.ndarray:
        d = np.flatnonzero(r.a == self.dbyte)
        if len(r.q):
            d = d[(np.searchsorted(r.q, d) & 1) == 0]
        counts = np.searchsorted(d, stops) - np.searchsorted(d, starts) + 1
        counts[_blank_lines(r.a, starts, length)] = 0
        return counts

    def _pandas(self, data: bytes, width: int) -> pd.DataFrame | None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", ParserWarning)
                return pd.read_csv(
                    io.BytesIO(data), sep=self.delimiter, header=None, names=list(range(width)), dtype=object,
                    na_filter=False, keep_default_na=False, skip_blank_lines=False, engine="c", index_col=False,
                    quotechar='"', doublequote=True, encoding="utf-8", low_memory=False,
                )  # fmt: skip
        except Exception:  # noqa: BLE001 - a long row, or anything else pandas dislikes: counted / read slowly
            return None

    def _empty_rows(self, a: np.ndarray, starts: np.ndarray, length: np.ndarray, cols: list[np.ndarray]) -> np.ndarray:
        """Rows whose every cell is blank: only records whose first field starts blank can be, so only those are
        checked cell by cell."""
        at = np.minimum(starts, len(a) - 1)
        first, second = a[at], a[np.minimum(at + 1, len(a) - 1)]
        maybe = (length == 0) | (first == self.dbyte) | np.isin(first, _BLANK_BYTES)
        maybe |= (first == _QUOTE) & ((length < 2) | (second == _QUOTE) | np.isin(second, _BLANK_BYTES))
        cand = np.flatnonzero(maybe)
        for col in cols:
            if not len(cand):
                break
            vals = col[cand]
            blank = np.fromiter((not v.strip(_BLANK) for v in vals), bool, len(vals))
            cand = cand[blank]
        empty = np.zeros(len(starts), bool)
        empty[cand] = True
        return empty

    def _slow(self, until: int) -> Iterator[RawChunk]:
        """Read records from the buffer with the csv module until at least ``until`` bytes are consumed; the next
        record then starts at a line the csv module agrees is a record boundary, so the fast path can resume."""
        pos = 0  # bytes of self.buf consumed by the csv module
        lines_read = 0

        def lines() -> Iterator[str]:
            nonlocal pos, lines_read
            while True:
                match = _LINE_END.search(self.buf, pos)
                # a CR at the very end of the buffer may be the first half of a CRLF
                if match is None or (match.end() == len(self.buf) and match.group() == b"\r" and not self.eof):
                    if not self.eof:
                        self._fill()
                        continue
                    if pos >= len(self.buf):
                        return
                    end = len(self.buf)
                else:
                    end = match.end()
                line = self.buf[pos:end].decode("utf-8")
                pos, lines_read = end, lines_read + 1
                yield line

        reader = csv.reader(lines(), delimiter=self.delimiter or ",")
        rows: list[list[str]] = []
        numbers: list[int] = []
        problems: list[str] = []
        while pos < until:
            start, first_line = pos, self.line + lines_read
            try:
                row = next(reader, None)
            except csv.Error as exc:
                if "field larger" in str(exc):
                    limit = csv.field_size_limit()
                    raise FileRejected(
                        f"line {first_line}: a field is longer than {limit} characters (an unclosed quote?)"
                    ) from None
                raise FileRejected(f"line {first_line}: {exc}") from None
            if row is None:
                break
            if pos >= len(self.buf) and not self.eof:
                self._fill()
            last = pos >= len(self.buf) and self.eof
            taken = self._take(row, self.buf[start:pos] if last else b"", last=last)
            if taken is not None:
                rows.append(taken[0])
                numbers.append(first_line)
                problems.append(taken[1])
                if len(rows) >= self.chunk_rows:
                    yield self._slow_chunk(rows, numbers, problems)
                    rows, numbers, problems = [], [], []
        self.buf = self.buf[pos:]
        self.line += lines_read
        if rows:
            yield self._slow_chunk(rows, numbers, problems)

    def _take(self, row: list[str], raw: bytes, *, last: bool) -> tuple[list[str], str] | None:
        """A data row and its problem from the slow path; None when the record is blank or was the header."""
        if is_blank_row(row):
            return None
        if self.headers is None:
            self.headers = clean_headers(row)
            return None
        m = len(self.headers)
        problem = ""
        if last and _ends_in_open_quote(raw.decode("utf-8"), self.delimiter or ","):
            problem = "row ends inside an unclosed quote (truncated file?)"
        elif len(row) != m:
            problem = field_count_problem(len(row), m, last=last)
        if len(row) < m:
            row = row + [""] * (m - len(row))
        elif len(row) > m:
            row = row[:m]
        return row, problem

    def _slow_chunk(self, rows: list[list[str]], numbers: list[int], problems: list[str]) -> RawChunk:
        assert self.headers is not None
        self.rows_seen += len(rows)
        return RawChunk(frame_from_rows(self.headers, rows), np.asarray(numbers, dtype=np.int64), problems)


def _blank_lines(a: np.ndarray, starts: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Records with no bytes but their line ending: zero fields, no delimiters."""
    blank = length == 0
    ones = np.flatnonzero(length == 1)
    blank[ones] = a[starts[ones]] == _CR
    return blank


def _ends_in_open_quote(raw: str, delimiter: str) -> bool:
    try:
        for _ in csv.reader(io.StringIO(raw, newline=""), delimiter=delimiter, strict=True):
            pass
    except csv.Error as exc:
        return "unexpected end of data" in str(exc)
    return False
