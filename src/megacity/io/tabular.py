"""Iterate the records of a CSV, xlsx or Parquet file as header-keyed dicts.

The container is chosen by content (magic bytes), not by suffix, because exports are often
renamed. Only non-blank records count, so a spreadsheet with 65,000 formatted-but-empty rows
yields its real rows and row numbers match what a person counts.
"""

from __future__ import annotations

import codecs
import csv
import re
import unicodedata
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from megacity.io.rows import RawRecord, UnreadableFileError, clean_text

__all__ = ["Table", "normalize_header", "open_table"]

_CHUNK = 1 << 20
_MAGIC_ZIP = b"PK\x03\x04"
_MAGIC_PARQUET = b"PAR1"
_MAGIC_OLE = b"\xd0\xcf\x11\xe0"  # legacy .xls / .doc
_DELIMITERS = (",", "\t", ";", "|")


def normalize_header(name: str) -> str:
    """A loose key for matching headers: `Unique Key`, `unique_key` and ` UNIQUE-KEY ` agree."""
    text = unicodedata.normalize("NFKC", name).casefold()
    return re.sub(r"[\W_]+", "_", text).strip("_")


def is_blank(value: Any) -> bool:
    """True for None and for strings made only of whitespace (incl. U+3000 and NBSP)."""
    return value is None or (isinstance(value, str) and not value.strip())


@dataclass(frozen=True)
class Table:
    """An opened table: its container kind and cleaned header; `records()` re-reads the file."""

    path: Path
    kind: str  # "csv" | "xlsx" | "parquet"
    header: tuple[str, ...]
    encoding: str | None = None
    delimiter: str = ","

    def raw_rows(self) -> Iterator[Sequence[Any]]:
        """Every row of the file including the header and blank rows, as raw cell values."""
        if self.kind == "csv":
            return _csv_rows(self.path, self.encoding or "utf-8-sig", self.delimiter)
        if self.kind == "xlsx":
            return _xlsx_rows(self.path)
        return _parquet_rows(self.path)

    def records(self) -> Iterator[RawRecord]:
        """Non-blank data records numbered from 1, keyed by header (first column of a name wins)."""
        width = len(self.header)
        positions: dict[str, int] = {}
        for index, name in enumerate(self.header):
            if name:
                positions.setdefault(name, index)
        rows = self.raw_rows()
        if self.kind != "parquet":
            _skip_to_header(rows)
        number = 0
        for cells in rows:
            if all(is_blank(cell) for cell in cells):
                continue
            number += 1
            overflow = sum(1 for cell in cells[width:] if not is_blank(cell))
            values = {name: (cells[i] if i < len(cells) else None) for name, i in positions.items()}
            yield RawRecord(number, values, overflow)


def _skip_to_header(rows: Iterator[Sequence[Any]]) -> None:
    for cells in rows:
        if not all(is_blank(cell) for cell in cells):
            return


def _clean_header(cells: Sequence[Any]) -> tuple[str, ...]:
    names = [clean_text(cell) or "" for cell in cells]
    while names and not names[-1]:
        names.pop()
    if not names:
        raise UnreadableFileError("empty header: the first non-blank row has no column names")
    return tuple(names)


def open_table(path: Path) -> Table:
    """Open a table and read its header; raises UnreadableFileError for anything not a table."""
    path = Path(path)
    if not path.exists():
        raise UnreadableFileError(f"{path}: no such file")
    if not path.is_file():
        raise UnreadableFileError(f"{path}: not a regular file")
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError as exc:
        raise UnreadableFileError(f"{path}: cannot read ({exc.strerror})") from None
    if head.startswith(_MAGIC_PARQUET):
        return _open_parquet(path)
    if head.startswith(_MAGIC_ZIP):
        return _open_xlsx(path)
    if head.startswith(_MAGIC_OLE):
        raise UnreadableFileError(f"{path}: legacy .xls is not supported; save it as .xlsx or .csv")
    return _open_csv(path)


def _first_row(path: Path, rows: Iterator[Sequence[Any]]) -> Sequence[Any]:
    try:
        for cells in rows:
            if not all(is_blank(cell) for cell in cells):
                return cells
    finally:
        close = getattr(rows, "close", None)
        if close is not None:
            close()
    raise UnreadableFileError(f"{path}: empty file, no header row")


# --- CSV -------------------------------------------------------------------------------------


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    with path.open("rb") as handle:
        try:
            while chunk := handle.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) if the whole file decodes, else GB18030 (Chinese Excel exports)."""
    with path.open("rb") as handle:
        head = handle.read(4096)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in head:
        raise UnreadableFileError(f"{path}: binary file, not a CSV table")
    for encoding in ("utf-8-sig", "gb18030"):
        if _decodes(path, encoding):
            return encoding
    raise UnreadableFileError(f"{path}: text is neither UTF-8 nor GB18030")


def _guess_delimiter(line: str) -> str:
    r"""The delimiter that splits the header into the most real column names.

    Counting characters alone is fooled by headers padded with tabs (`\t留言编号\t,...`):
    a field counts only when it is non-empty after stripping and holds no other delimiter.

    >>> _guess_delimiter("\t留言编号\t,\t留言主题\t,一级分类")
    ','
    >>> _guess_delimiter("a\tb\tc")
    '\t'
    """

    def score(delimiter: str) -> int:
        others = [d for d in _DELIMITERS if d != delimiter]
        fields = next(csv.reader([line.rstrip("\r\n")], delimiter=delimiter), [])
        return sum(1 for f in fields if f.strip() and not any(o in f.strip() for o in others))

    scores = {delimiter: score(delimiter) for delimiter in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda delimiter: scores[delimiter])
    return best if scores[best] > scores[","] else ","


def _csv_rows(path: Path, encoding: str, delimiter: str) -> Iterator[Sequence[Any]]:
    csv.field_size_limit(2**31 - 1)  # replies and descriptions exceed the 128 KiB default
    with path.open(encoding=encoding, newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        try:
            yield from reader
        except csv.Error as exc:
            raise UnreadableFileError(f"{path}: broken CSV near line {reader.line_num}: {exc}") from None


def _open_csv(path: Path) -> Table:
    encoding = detect_encoding(path)
    with path.open(encoding=encoding, newline="") as handle:
        first_line = handle.readline()
    delimiter = _guess_delimiter(first_line)
    header = _first_row(path, _csv_rows(path, encoding, delimiter))
    return Table(path, "csv", _clean_header(header), encoding, delimiter)


# --- xlsx ------------------------------------------------------------------------------------


def _xlsx_rows(path: Path) -> Iterator[Sequence[Any]]:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    with path.open("rb") as handle:  # a handle, so openpyxl does not judge the file by its suffix
        try:
            workbook = openpyxl.load_workbook(handle, read_only=True, data_only=True)
        except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
            raise UnreadableFileError(f"{path}: not an xlsx workbook ({exc})") from None
        try:
            yield from workbook.worksheets[0].iter_rows(values_only=True)
        finally:
            workbook.close()


def _open_xlsx(path: Path) -> Table:
    header = _first_row(path, _xlsx_rows(path))
    return Table(path, "xlsx", _clean_header(header))


# --- Parquet ---------------------------------------------------------------------------------


def _parquet_file(path: Path) -> Any:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise UnreadableFileError(f"{path}: not a Parquet file ({exc})") from None


def _parquet_rows(path: Path) -> Iterator[Sequence[Any]]:
    parquet = _parquet_file(path)
    for batch in parquet.iter_batches(batch_size=8192):
        yield from zip(*(column.to_pylist() for column in batch.columns), strict=True)


def _open_parquet(path: Path) -> Table:
    names = [str(name) for name in _parquet_file(path).schema_arrow.names]
    return Table(path, "parquet", _clean_header(names))


def parquet_row_count(path: Path) -> int:
    """Rows stored in the Parquet footer: free to read, counts all-null rows too."""
    return int(_parquet_file(path).metadata.num_rows)
