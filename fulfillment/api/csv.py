"""CSV exports that a spreadsheet cannot turn into formulas (CWE-1236)."""

from __future__ import annotations

import csv
from collections.abc import Iterable

from django.http import HttpResponse

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value) -> str:
    """A cell that a spreadsheet will not run as a formula: ' before = + - @ (and tab / CR)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_response(*, filename: str, header: list[str], rows: Iterable[Iterable]) -> HttpResponse:
    """An attachment with every text cell neutralised; numbers are written as they are."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(header)
    for cells in rows:
        writer.writerow(
            [cell if isinstance(cell, int | float) and not isinstance(cell, bool) else csv_safe(cell) for cell in cells]
        )
    return response
