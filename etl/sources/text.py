"""Text files: encoding detection, an up-front validity scan, a UTF-8 byte stream over any accepted encoding, and
delimiter sniffing.

Accepted: UTF-8 with or without BOM, UTF-16 LE/BE with BOM (Excel "Unicode text") and, by a conservative
heuristic, BOM-less UTF-16 whose first kilobytes are mostly ASCII. Nothing else: a legacy code page is refused rather
than guessed, because a wrong guess silently corrupts Hindi text.
"""

from __future__ import annotations

import codecs
import io
from dataclasses import dataclass
from pathlib import Path

from etl.sources.base import FileRejected

SCAN_BLOCK = 8 << 20
_HINT = 'save it as "CSV UTF-8" or "Unicode Text" and drop it again'


@dataclass(frozen=True)
class TextEncoding:
    codec: str  # "utf-8", "utf-16-le" or "utf-16-be"
    bom_len: int

    @property
    def is_utf16(self) -> bool:
        return self.codec.startswith("utf-16")


def detect_encoding(head: bytes) -> TextEncoding:
    """The encoding of a text file from its first bytes (BOM, else the BOM-less UTF-16 heuristic, else UTF-8)."""
    if head.startswith(codecs.BOM_UTF8):
        return TextEncoding("utf-8", 3)
    if head.startswith(codecs.BOM_UTF16_LE):
        return TextEncoding("utf-16-le", 2)
    if head.startswith(codecs.BOM_UTF16_BE):
        return TextEncoding("utf-16-be", 2)
    sample = head[: min(len(head), 4096) // 2 * 2]
    pairs = len(sample) // 2
    if pairs >= 2:
        even_nul, odd_nul = sample[0::2].count(0), sample[1::2].count(0)
        if odd_nul >= 0.9 * pairs and even_nul == 0:
            return TextEncoding("utf-16-le", 0)
        if even_nul >= 0.9 * pairs and odd_nul == 0:
            return TextEncoding("utf-16-be", 0)
    return TextEncoding("utf-8", 0)


def scan_text(path: Path, enc: TextEncoding) -> int:
    """Read the whole file once and refuse it if it is empty, binary or not valid in its encoding.

    Returns the byte offset where usable text ends: an incomplete character at the very end (a file cut mid-way
    through a multi-byte character) is left out, so a truncated file still reads and its last row is reported.
    """
    decoder = codecs.getincrementaldecoder(enc.codec)("strict")
    offset = enc.bom_len  # file offset of the next block
    blank = True
    with open(path, "rb") as fh:
        fh.seek(enc.bom_len)
        while block := fh.read(SCAN_BLOCK):
            pending = len(decoder.getstate()[0])
            if not enc.is_utf16:
                if b"\x00" in block:
                    line = _line_at(path, enc, offset + block.index(b"\x00"))
                    raise FileRejected(f"the file looks binary, not text: it contains NUL bytes (line {line})")
                if not pending and block.isascii():  # the common case needs no decoding to be valid UTF-8
                    blank = blank and block.isspace()
                    offset += len(block)
                    continue
            try:
                text = decoder.decode(block)
            except UnicodeDecodeError as exc:
                line = _line_at(path, enc, offset - pending + exc.start)
                bad = exc.object[exc.start : exc.start + 4].hex(" ")
                raise FileRejected(
                    f"the file is not valid {enc.codec.upper()} text (line {line}, bytes {bad}); {_HINT}"
                ) from None
            if "\x00" in text:
                at = offset - pending + len(text[: text.index("\x00")].encode(enc.codec))
                line = _line_at(path, enc, at)
                raise FileRejected(f"the file looks binary, not text: it contains NUL characters (line {line})")
            blank = blank and (not text or text.isspace())
            offset += len(block)
    pending = len(decoder.getstate()[0])
    if blank:
        empty = offset - pending <= enc.bom_len
        raise FileRejected("the file is empty" if empty else "the file contains only whitespace")
    return offset - pending


def _line_at(path: Path, enc: TextEncoding, offset: int) -> int:
    """1-based line number of a byte offset (only computed for an error message)."""
    lines = 1
    decoder = codecs.getincrementaldecoder(enc.codec)("replace")
    with open(path, "rb") as fh:
        fh.seek(enc.bom_len)
        left = offset - enc.bom_len
        while left > 0 and (block := fh.read(min(SCAN_BLOCK, left))):
            lines += decoder.decode(block).count("\n")
            left -= len(block)
    return lines


class _LimitedReader(io.RawIOBase):
    """UTF-8 bytes of a UTF-8 file between the BOM and ``end``."""

    def __init__(self, path: Path, start: int, end: int) -> None:
        self._fh = open(path, "rb")  # noqa: SIM115 - closed by close()
        self._fh.seek(start)
        self._left = end - start

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        view = memoryview(buffer)[: max(0, self._left)]
        n = self._fh.readinto(view)
        self._left -= n
        return n

    def read(self, size: int = -1) -> bytes:
        if size < 0 or size > self._left:
            size = self._left
        data = self._fh.read(size)
        self._left -= len(data)
        return data

    def close(self) -> None:
        self._fh.close()
        super().close()


class _Transcoder(io.RawIOBase):
    """UTF-8 bytes of a UTF-16 file (decoded incrementally, so memory stays bounded)."""

    def __init__(self, path: Path, enc: TextEncoding, end: int) -> None:
        self._inner = _LimitedReader(path, enc.bom_len, end)
        self._decoder = codecs.getincrementaldecoder(enc.codec)("strict")
        self._pending = b""

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        want = size if size >= 0 else 1 << 62
        parts = [self._pending]
        have = len(self._pending)
        while have < want:
            raw = self._inner.read(max(1 << 16, (want - have) * 2) if size >= 0 else -1)
            if not raw:
                break
            chunk = self._decoder.decode(raw).encode("utf-8")
            parts.append(chunk)
            have += len(chunk)
        data = b"".join(parts)
        self._pending = data[want:] if size >= 0 else b""
        return data[:want] if size >= 0 else data

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._inner.close()
        super().close()


def open_utf8(path: Path, enc: TextEncoding, end: int) -> io.RawIOBase:
    """A binary stream of the file's text as UTF-8 without BOM, up to byte ``end`` of the file."""
    if enc.is_utf16:
        return _Transcoder(path, enc, end)
    return _LimitedReader(path, enc.bom_len, end)


def read_text(path: Path, enc: TextEncoding, end: int) -> str:
    """The whole file as text (for JSON arrays, which are parsed whole anyway)."""
    with open(path, "rb") as fh:
        fh.seek(enc.bom_len)
        return fh.read(end - enc.bom_len).decode(enc.codec)


def sniff_delimiter(first_line: str) -> str:
    """Comma, semicolon or tab: whichever occurs most often outside quotes in the header line (comma on a tie)."""
    counts = {",": 0, ";": 0, "\t": 0}
    quoted = False
    for ch in first_line:
        if ch == '"':
            quoted = not quoted
        elif not quoted:
            if ch in counts:
                counts[ch] += 1
            elif ch in "\r\n":
                break
    best = max(counts.values())
    if best == 0:
        return ","
    for delim in (",", "\t", ";"):
        if counts[delim] == best:
            return delim
    return ","  # pragma: no cover
