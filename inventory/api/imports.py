"""Product CSV import: reading the uploaded file (the rules live in inventory.services.catalog)."""

from __future__ import annotations

import csv
import io

from rest_framework import serializers

from fulfillment.api.csv import csv_safe
from fulfillment.errors import Refusal
from inventory.services.catalog import IMPORT_COLUMNS, IMPORT_MAX_ROWS

MAX_FILE_BYTES = 5 * 1024 * 1024


class CsvFileError(Refusal):
    """A product CSV that cannot be read at all (422 naming the file); nothing is imported."""

    def __init__(self, message: str):
        super().__init__(message, code="invalid_file", errors=[{"row": None, "field": "file", "message": message}])


def read_product_csv(upload) -> tuple[list[dict], list[int]]:
    """(rows as {column: cell}, their line numbers) of an uploaded CSV; CsvFileError when the file is unusable."""
    if upload is None:
        raise CsvFileError("send the CSV as a multipart field named 'file'")
    if upload.size > MAX_FILE_BYTES:
        raise CsvFileError(f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    try:
        text = upload.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CsvFileError("the file is not UTF-8 text") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [(name or "").strip().lower() for name in (reader.fieldnames or [])]
    if "sku" not in header:
        raise CsvFileError("the first line must be a header naming the columns, at least 'sku'")
    unknown = [name for name in header if name not in IMPORT_COLUMNS]
    if unknown:
        names = ", ".join(csv_safe(name) for name in unknown)
        raise CsvFileError(f"unknown columns: {names} (known: {', '.join(IMPORT_COLUMNS)})")
    if len(set(header)) != len(header):
        raise CsvFileError("a column is named twice")
    reader.fieldnames = header
    rows, lines = [], []
    try:
        for cells in reader:
            if None in cells:
                raise CsvFileError(f"line {reader.line_num} has more cells than the header")
            if not any((value or "").strip() for value in cells.values()):
                continue
            rows.append(cells)
            lines.append(reader.line_num)
            if len(rows) > IMPORT_MAX_ROWS:
                raise CsvFileError(f"at most {IMPORT_MAX_ROWS} rows per file")
    except csv.Error as exc:
        raise CsvFileError(f"line {reader.line_num}: {exc}") from None
    return rows, lines


class ProductImportRequestSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CSV with a header line; columns: " + ", ".join(IMPORT_COLUMNS))


class ImportErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(allow_null=True, help_text="Line in the file (the header is line 1)")
    field = serializers.CharField(allow_null=True)
    message = serializers.CharField()


class ProductImportResultSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    errors = ImportErrorSerializer(many=True)
