"""Reading an admission file row by row, whatever its format: CSV (UTF-8 with or without
BOM, or GBK, detected) or XLSX. Never the whole file in memory: CSV is decoded as it is read,
XLSX through openpyxl's read-only mode.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from django.utils.translation import gettext_lazy as _

XLSX_MAGIC = b"PK\x03\x04"
SAMPLE_BYTES = 64 * 1024

# Each column by its English name and the headers the provinces' files use.
COLUMNS: dict[str, tuple[str, ...]] = {
    "candidate_number": ("考生号", "考生编号"),
    "name": ("姓名",),
    "gender": ("性别",),
    "birth_date": ("出生日期",),
    "id_type": ("证件类型",),
    "id_number": ("证件号码", "身份证号", "身份证号码"),
    "school_code": ("学校代码", "院校代码"),
    "major_code": ("专业代码",),
    "major_name": ("专业名称",),
    "level": ("层次",),
    "study_length": ("学制",),
    "learning_form": ("学习形式",),
    "admission_type": ("特殊招生类型",),
    "admission_year": ("入学年份",),
    "origin_province": ("生源地",),
    "ethnicity": ("民族",),
}
OPTIONAL = frozenset({"id_type", "major_name", "admission_type", "ethnicity"})
REQUIRED = tuple(column for column in COLUMNS if column not in OPTIONAL)

_HEADERS = {
    header.casefold(): column
    for column, headers in COLUMNS.items()
    for header in (column, *headers)
}

MISSING_COLUMNS = _("The file has no column %(columns)s (by English name or Chinese header).")
TWICE = _("The column %(column)s appears twice.")
NOT_READABLE = _("The file is neither a CSV file (UTF-8 or GBK) nor an XLSX workbook.")
EMPTY = _("The file is empty: the first row must name the columns.")


class FileFormatError(Exception):
    """The file as a whole cannot be imported (its format, its header): no row is read."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Row:
    number: int  # as a spreadsheet shows it: the header is row 1
    values: dict[str, str]  # by column's English name


@dataclass(frozen=True)
class Sheet:
    """A file's header (the column names as the file gives them, by English name) and rows."""

    labels: dict[str, str]
    rows: Iterator[Row]


def detect_encoding(sample: bytes) -> str:
    """``utf-8-sig`` for a BOM, ``utf-8`` when the sample decodes as UTF-8, else GB18030 (a
    superset of GBK, which Excel writes for Chinese CSV files)."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


def _header(cells: list[str]) -> tuple[list[str | None], dict[str, str]]:
    """Each position's column (``None``: a column we do not read) and each column's label."""
    positions: list[str | None] = []
    labels: dict[str, str] = {}
    for cell in cells:
        label = (cell or "").strip()
        column = _HEADERS.get(label.casefold())
        if column is not None and column in labels:
            raise FileFormatError(str(TWICE % {"column": label}))
        if column is not None:
            labels[column] = label
        positions.append(column)
    missing = [column for column in REQUIRED if column not in labels]
    if missing:
        names = "、".join(f"{column}（{COLUMNS[column][0]}）" for column in missing)
        raise FileFormatError(str(MISSING_COLUMNS % {"columns": names}))
    return positions, labels


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a number typed into a spreadsheet: 2026.0 is 2026
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()[:10]  # an Excel date cell
    return str(value).strip()


def _rows(cells: Iterator[list[object]], positions: list[str | None]) -> Iterator[Row]:
    for number, row in enumerate(cells, start=2):
        values = {
            column: _text(value)
            for column, value in zip(positions, row, strict=False)
            if column is not None
        }
        if any(values.values()):  # a blank line is no row
            yield Row(number, values)


def _csv(handle: IO[bytes]) -> Sheet:
    sample = handle.read(SAMPLE_BYTES)
    handle.seek(0)
    text = io.TextIOWrapper(handle, encoding=detect_encoding(sample), newline="")
    reader = csv.reader(text)
    try:
        header = next(reader)
    except StopIteration:
        raise FileFormatError(str(EMPTY)) from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise FileFormatError(str(NOT_READABLE)) from exc
    positions, labels = _header(header)
    return Sheet(labels, _rows(iter(reader), positions))  # type: ignore[arg-type]


def _xlsx(handle: IO[bytes]) -> Sheet:
    from openpyxl import load_workbook  # noqa: PLC0415  (only for workbooks)

    try:
        workbook = load_workbook(handle, read_only=True, data_only=True)
    except Exception as exc:  # a broken zip, a workbook openpyxl cannot read
        raise FileFormatError(str(NOT_READABLE)) from exc
    cells = (list(row) for row in workbook.active.iter_rows(values_only=True))
    try:
        header = next(cells)
    except StopIteration:
        raise FileFormatError(str(EMPTY)) from None
    positions, labels = _header([_text(cell) for cell in header])
    return Sheet(labels, _rows(cells, positions))


def open_sheet(handle: IO[bytes]) -> Sheet:
    """The header and the rows of an admission file (CSV or XLSX, told by its content)."""
    start = handle.read(4)
    handle.seek(0)
    if start == XLSX_MAGIC:
        return _xlsx(handle)
    return _csv(handle)
