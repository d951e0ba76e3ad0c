"""Every table of the operations centre and the statistics pages as a CSV or XLSX download.

A page builds its tables as `Table`s (the same rows it renders), and its view starts with

    if (download := export_response(tables)) is not None:
        return download

so `?export=<table name>&format=csv|xlsx` on the page's own URL (same filters, same period) downloads that table.
The template offers the links with `{% from "macros/export.html" import export_links %}{{ export_links(name) }}`.

Values are written as numbers, not as the page's formatted text, so spreadsheets can compute with them: shares as
fractions (XLSX shows them as percentages), hours with one decimal, scores with two. CSV is UTF-8 with a BOM and
CRLF line ends (what spreadsheet programs in Vietnam open correctly); XLSX is written by openpyxl.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, abort, current_app, request

from portal.core.time import as_utc

KINDS = ("text", "int", "share", "hours", "score", "date", "datetime")
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_XLSX_FORMATS = {
    "int": "#,##0",
    "share": "0.0%",
    "hours": "#,##0.0",
    "score": "0.00",
    "date": "dd/mm/yyyy",
    "datetime": "dd/mm/yyyy hh:mm",
}
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")
# Text a spreadsheet would run as a formula when opened (CSV injection); such cells get a leading apostrophe.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    key: str
    label: str  # already in the reader's language
    kind: str = "text"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}")


@dataclass
class Table:
    """One table of a page: `name` is its key in the URL and the file name's stem (ASCII)."""

    name: str
    title: str
    columns: Sequence[Column]
    rows: list[Sequence[Any]] = field(default_factory=list)
    # A last line for the reader, e.g. that the rows were cut at a maximum.
    note: str | None = None

    def add(self, *values: Any) -> None:
        if len(values) != len(self.columns):
            raise ValueError(f"{self.name}: {len(values)} values for {len(self.columns)} columns")
        self.rows.append(values)


def _value(kind: str, value: Any) -> Any:
    """The value as written: numbers stay numbers (rounded as the page shows them), None stays empty."""
    if value is None:
        return None
    if kind == "share":
        return round(float(value), 4)
    if kind == "hours":
        return round(float(value), 1)
    if kind == "score":
        return round(float(value), 2)
    if kind == "int":
        return int(value)
    if kind == "date":
        return value
    if kind == "datetime":  # in the portal's time zone, without it (spreadsheets have no time zones)
        tz = ZoneInfo(current_app.config["TIMEZONE"])
        return as_utc(value).astimezone(tz).replace(tzinfo=None, second=0, microsecond=0)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def to_csv(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([column.label for column in table.columns])
    for row in table.rows:
        writer.writerow([_csv_cell(_value(c.kind, v)) for c, v in zip(table.columns, row, strict=True)])
    if table.note:
        writer.writerow([table.note])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(table: Table) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=False)
    sheet = book.create_sheet(_sheet_title(table.title), 0)
    book.remove(book.worksheets[1])  # the empty sheet every new workbook starts with
    sheet.append([column.label for column in table.columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table.rows:
        sheet.append([_value(c.kind, v) for c, v in zip(table.columns, row, strict=True)])
    if table.note:
        sheet.append([table.note])
    for index, column in enumerate(table.columns, start=1):
        letter = get_column_letter(index)
        number_format = _XLSX_FORMATS.get(column.kind)
        if number_format:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = number_format
        width = max([len(column.label)] + [len(_csv_cell(row[index - 1])) for row in table.rows[:200]])
        sheet.column_dimensions[letter].width = min(60, max(8, width + 2))
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet_title(title: str) -> str:
    """Excel refuses sheet names over 31 characters or with []:*?/\\ in them."""
    cleaned = re.sub(r"[\[\]:*?/\\]", " ", title).strip() or "Sheet"
    return cleaned[:31]


def file_name(table: Table, suffix: str, fmt: str) -> str:
    stem = _SAFE_NAME.sub("-", f"motcua-{table.name}-{suffix}" if suffix else f"motcua-{table.name}").strip("-")
    return f"{stem}.{fmt}"


def table_response(table: Table, fmt: str, suffix: str = "") -> Response:
    """The table as a download; `suffix` (e.g. the period's key) goes into the file name."""
    if fmt == "csv":
        response = Response(to_csv(table), content_type="text/csv; charset=utf-8")
    elif fmt == "xlsx":
        response = Response(to_xlsx(table), mimetype=XLSX_MIMETYPE)
    else:
        abort(404)
    response.headers["Content-Disposition"] = f'attachment; filename="{file_name(table, suffix, fmt)}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def export_response(tables: Mapping[str, Table], suffix: str = "") -> Response | None:
    """The download the request asks for (`?export=<name>&format=csv|xlsx`), or None to render the page.
    An unknown table or format is a 404: the link was not made by the page."""
    name = request.args.get("export")
    if not name:
        return None
    table = tables.get(name)
    if table is None:
        abort(404)
    return table_response(table, request.args.get("format", "csv"), suffix)
