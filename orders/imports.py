"""CSV order imports: checking an upload, and importing it in chunks that survive a killed worker.

The file format (one row per order line; rows with the same external_id form one order):

    external_id, shipping_method, payment_status, currency,
    ship_to_name, ship_to_company?, ship_to_line1, ship_to_line2?, ship_to_city, ship_to_region,
    ship_to_postal_code, ship_to_country, ship_to_phone?, ship_to_email?,
    sku, quantity, unit_price?, warehouse?, gift_message?, requested_carrier?, requested_service?
                                                                (? = the column may be absent)

UTF-8 with or without a BOM, comma separated, fields quoted as in RFC 4180. Column names are
matched without regard to case or surrounding spaces. The order columns (everything but sku,
quantity and unit_price) must agree across the rows of one order; later rows may leave them empty.
Rows whose cells are all empty are skipped. The columns ``error_row``, ``error_field`` and
``error_message`` that the error CSV adds are ignored, and a leading ``'`` that the error CSV put
before ``= + - @`` is removed, so that a corrected error file can be uploaded as it is.

Checked at upload (refused with nothing stored): a file at all, at most 10 MB, no NUL bytes, UTF-8,
the header (missing and unknown columns named), at least one order row, at most 50,000 rows.
Everything else is a row error ``{row, field, message}``: ``row`` is the row number as a
spreadsheet shows it (the header is row 1; this is the line number unless a quoted cell spans
lines) and ``field`` the column. Each row of an order that fails is reported, so that the error
CSV holds whole orders.

Crash safety: the import runs in chunks of orders. A chunk's orders and the job's counters
(processed, created, duplicates, failed, errors) commit in one transaction with the job row
locked, so a task that runs again (a redelivered message, the sweep, a second worker) goes on
from ``processed`` and never creates an order twice; a finished job is left alone. An order that
already exists (same external_id: a re-upload) counts as a duplicate, not as an error.

Layering: a service module; it uses orders.inputs (the validation shared with the JSON API)
and orders.services, never the api, views or tasks.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import os
import re
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from fulfillment.api.errors import flatten_errors
from fulfillment.errors import Refusal
from fulfillment.jobs import enqueue
from fulfillment.tenancy.models import Tenant
from orders import services
from orders.inputs import OrderCreateSerializer, order_input
from orders.locks import order_import_qs_select_for_update
from orders.models import ImportStatus, OrderImport

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 50_000
MAX_CHUNK = 200
MIN_CHUNK = 25
MAX_STORED_ERRORS = 1000
STUCK_AFTER_SECONDS = 600

ADDRESS_FIELDS = [
    "name",
    "company",
    "line1",
    "line2",
    "city",
    "region",
    "postal_code",
    "country",
    "phone",
    "email",
]
OPTIONAL_COLUMNS = {
    "ship_to_company",
    "ship_to_line2",
    "ship_to_phone",
    "ship_to_email",
    "unit_price",
    "warehouse",
    "gift_message",
    "requested_carrier",
    "requested_service",
}
COLUMNS = [
    "external_id",
    "shipping_method",
    "payment_status",
    "currency",
    *(f"ship_to_{name}" for name in ADDRESS_FIELDS),
    "sku",
    "quantity",
    "unit_price",
    "warehouse",
    "gift_message",
    "requested_carrier",
    "requested_service",
]
REQUIRED_COLUMNS = [c for c in COLUMNS if c not in OPTIONAL_COLUMNS]
LINE_COLUMNS = {"sku", "quantity", "unit_price"}
ORDER_COLUMNS = [c for c in COLUMNS if c not in LINE_COLUMNS]
# Added by the error CSV; ignored on upload so that a fixed error file can be sent back as it is.
ERROR_COLUMNS = ["error_row", "error_field", "error_message"]

_NEUTRALISED = re.compile(r"^'(?=[=+\-@\t\r])")
_LINE_PATH = re.compile(r"^lines\[(\d+)\](?:\.(\w+))?$")
_ACTIVE = [ImportStatus.QUEUED, ImportStatus.RUNNING]


class ImportRefused(Refusal):
    """An upload that is not imported at all: nothing is stored. 422 naming the file; 413 too large;
    409 while the same file is being imported (``existing_id``: that import)."""

    def __init__(self, message: str, *, status: int = 422, code: str = "invalid_file", existing_id=None):
        super().__init__(
            message,
            code=code,
            status=status,
            field="file",
            errors=[{"field": "file", "code": code, "message": message}],
            extra={"existing_import_id": str(existing_id)} if existing_id else None,
        )
        self.existing_id = existing_id


@dataclass
class Row:
    number: int  # the spreadsheet row: header = 1
    cells: list[str]
    values: dict[str, str]


@dataclass
class Group:
    """The rows of one order (or one row without an external_id)."""

    external_id: str
    rows: list[Row] = field(default_factory=list)


@dataclass
class ParsedFile:
    header: list[str]  # as in the file (stripped), in the file's order
    columns: list[str]  # the known column of each header position, or "" for an ignored one
    groups: list[Group]
    rows: int


# -- reading a file ------------------------------------------------------------------------


def read_upload(upload) -> bytes:
    """At most MAX_BYTES + 1 bytes of an uploaded file: enough to tell that it is too big."""
    upload.seek(0)
    return upload.read(MAX_BYTES + 1)


def decode(data: bytes) -> str:
    """The text of an upload, or ImportRefused naming what is wrong and where."""
    if len(data) > MAX_BYTES:
        raise ImportRefused(
            f"The file is larger than the limit of {MAX_BYTES // (1024 * 1024)} MB; split it into several files.",
            status=413,
            code="too_large",
        )
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data.strip():
        raise ImportRefused("The file is empty.", code="empty_file")
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise ImportRefused(
            f"The file contains a NUL byte at byte {nul + 1} (line {line}): "
            "it is not CSV text. Is it a spreadsheet (.xlsx) or UTF-16? Export it as 'CSV UTF-8'.",
            code="nul_byte",
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ImportRefused(
            f"The file is not UTF-8: byte 0x{data[exc.start]:02X} at byte {exc.start + 1} (line {line}) "
            "cannot be read. Save the file as 'CSV UTF-8'.",
            code="not_utf8",
        ) from None


def _cell(value: str) -> str:
    return _NEUTRALISED.sub("", value.strip())


def _header(raw: list[str]) -> tuple[list[str], list[str]]:
    header = [name.strip() for name in raw]
    names = [name.lower() for name in header]
    if len(raw) == 1 and ";" in raw[0] and "," not in raw[0]:
        raise ImportRefused("The header uses semicolons; the columns must be separated by commas.", code="bad_header")
    unknown = [h for h, n in zip(header, names, strict=True) if n not in COLUMNS and n not in ERROR_COLUMNS]
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    repeated = sorted({n for n in names if names.count(n) > 1 and n})
    problems = []
    if missing:
        problems.append("missing required columns: " + ", ".join(missing))
    if unknown:
        shown = ", ".join(name or "(empty name)" for name in unknown[:20])
        problems.append("unknown columns: " + shown + (f" and {len(unknown) - 20} more" if len(unknown) > 20 else ""))
    if repeated:
        problems.append("repeated columns: " + ", ".join(repeated))
    if problems:
        raise ImportRefused(
            "The header row is not right: " + "; ".join(problems) + ". Expected columns: " + ", ".join(COLUMNS) + ".",
            code="bad_header",
        )
    return header, [n if n in COLUMNS else "" for n in names]


def parse(text: str) -> ParsedFile:
    """The header and the rows grouped into orders (first appearance first), or ImportRefused."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    number = 0  # records, as a spreadsheet numbers its rows (a quoted cell may span lines)
    try:
        raw_header = None
        for cells in reader:
            number += 1
            if any(cell.strip() for cell in cells):
                raw_header = cells
                break
        if raw_header is None:
            raise ImportRefused("The file is empty.", code="empty_file")
        header, columns = _header(raw_header)
        groups: dict[str, Group] = {}
        ordered: list[Group] = []
        count = 0
        for cells in reader:
            number += 1
            if not any(cell.strip() for cell in cells):
                continue
            count += 1
            if count > MAX_ROWS:
                raise ImportRefused(
                    f"The file has more than {MAX_ROWS:,} rows, the limit; split it into several files.",
                    status=413,
                    code="too_many_rows",
                )
            values = {column: _cell(value) for column, value in zip(columns, cells, strict=False) if column}
            row = Row(number=number, cells=cells, values=values)
            key = values.get("external_id", "")
            if not key:
                ordered.append(Group(external_id="", rows=[row]))
                continue
            group = groups.get(key)
            if group is None:
                group = groups[key] = Group(external_id=key)
                ordered.append(group)
            group.rows.append(row)
    except csv.Error as exc:
        raise ImportRefused(f"The file is not valid CSV at line {reader.line_num}: {exc}.", code="bad_csv") from None
    if not ordered:
        raise ImportRefused("The file has a header but no order rows.", code="empty_file")
    return ParsedFile(header=header, columns=columns, groups=ordered, rows=count)


# -- the upload ----------------------------------------------------------------------------


def import_create(*, tenant: Tenant, file_name: str, data: bytes, actor: str = "") -> OrderImport:
    """Check an uploaded CSV and queue its import; ImportRefused (nothing stored) when it cannot be imported.

    The same file uploaded while its first import is still queued or running is refused (409 with
    that job's id); once that one is done, the same file makes a new job whose orders are all duplicates.
    """
    text = decode(data)
    parsed = parse(text)
    digest = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        running = (
            OrderImport.objects.filter(tenant_id=tenant.pk, file_sha256=digest, status__in=_ACTIVE)
            .values_list("pk", flat=True)
            .first()
        )
        if running:
            raise ImportRefused(
                "The same file is being imported already; follow that import.",
                status=409,
                code="import_in_progress",
                existing_id=running,
            )
        job = OrderImport.objects.create(
            tenant_id=tenant.pk,
            file_name=os.path.basename(file_name or "")[:255],
            file_sha256=digest,
            content=text,
            status=ImportStatus.QUEUED,
            total=len(parsed.groups),
            created_by=actor[:100],
            updated_at=timezone.now(),
        )
        enqueue("orders.tasks.import_orders", import_id=str(job.pk))
    return job


# -- checking and creating one chunk -------------------------------------------------------


def _error(row: int, column: str | None, message: str) -> dict:
    return {"row": row, "field": column or None, "message": message}


def _order_values(group: Group, columns: set[str]) -> tuple[dict[str, str], dict[str, int], list[dict]]:
    """The order columns' values (the first non-empty per column), the row each came from, and disagreements."""
    values: dict[str, str] = {}
    source: dict[str, int] = {}
    errors = []
    for row in group.rows:
        for column in ORDER_COLUMNS:
            if column not in columns:
                continue
            value = row.values.get(column, "")
            if not value:
                continue
            if column not in values:
                values[column], source[column] = value, row.number
            elif value != values[column]:
                errors.append(
                    _error(
                        row.number,
                        column,
                        f"differs from row {source[column]} of the same order ({values[column]!r}); "
                        "the order columns must agree",
                    )
                )
    return values, source, errors


def _payload(group: Group, values: dict[str, str]) -> dict:
    ship_to = {name: values.get(f"ship_to_{name}", "") for name in ADDRESS_FIELDS}
    return {
        "external_id": group.external_id,
        "shipping_method": values.get("shipping_method", ""),
        "payment_status": values.get("payment_status", ""),
        "currency": values.get("currency", ""),
        "ship_to": ship_to,
        "lines": [
            {
                "sku": row.values.get("sku", ""),
                "quantity": row.values.get("quantity", ""),
                "unit_price": row.values.get("unit_price") or None,
            }
            for row in group.rows
        ],
        "warehouse": values.get("warehouse", ""),
        "gift_message": values.get("gift_message", ""),
        "requested_carrier": values.get("requested_carrier", ""),
        "requested_service": values.get("requested_service", ""),
    }


def _locate(path: str | None, group: Group, source: dict[str, int]) -> tuple[int, str | None]:
    """The CSV row and column of an API error path (``lines[1].sku``, ``ship_to.postal_code``)."""
    first = group.rows[0].number
    if not path:
        return first, None
    match = _LINE_PATH.match(path)
    if match:
        index = int(match.group(1))
        row = group.rows[index].number if index < len(group.rows) else first
        return row, match.group(2)
    if path == "lines":
        return first, None
    if path.startswith("ship_to."):
        column = "ship_to_" + path.removeprefix("ship_to.")
        return source.get(column, first), column
    if path == "ship_to":
        return first, None
    return source.get(path, first), path


def _row_errors(group: Group, errors: list[dict]) -> list[dict]:
    """Every row of a failed order: its own errors, or a note pointing at the rows that have some."""
    rows_with_errors = sorted({e["row"] for e in errors})
    others = [
        _error(
            row.number,
            None,
            f"order {group.external_id} not imported: see row{'s' if len(rows_with_errors) > 1 else ''} "
            + ", ".join(map(str, rows_with_errors)),
        )
        for row in group.rows
        if row.number not in rows_with_errors
    ]
    return sorted(errors + others, key=lambda e: (e["row"], e["field"] or ""))


@dataclass
class ChunkOutcome:
    created: int = 0
    duplicates: int = 0
    failed: int = 0
    errors: list[dict] = field(default_factory=list)


def _check(group: Group, parsed: ParsedFile, columns: set[str], validator: OrderCreateSerializer):
    """(the service input or None, the row errors, the row each order column came from)."""
    errors = []
    width = len(parsed.header)
    for row in group.rows:
        if len(row.cells) != width:
            errors.append(_error(row.number, None, f"the row has {len(row.cells)} cells, the header has {width}"))
    if not group.external_id:
        errors.append(_error(group.rows[0].number, "external_id", "This field may not be blank."))
        return None, errors, {}
    values, source, disagreements = _order_values(group, columns)
    errors.extend(disagreements)
    try:
        validated = validator.run_validation(_payload(group, values))
    except ValidationError as exc:
        validated = None
        for e in flatten_errors(exc.detail):
            row, column = _locate(e["field"], group, source)
            errors.append(_error(row, column, e["message"]))
    if errors:
        return None, errors, source
    return order_input(validated), [], source


def _import_chunk(*, tenant: Tenant, parsed: ParsedFile, groups: list[Group], actor: str) -> ChunkOutcome:
    outcome = ChunkOutcome()
    columns = {c for c in parsed.columns if c}
    items: list[services.OrderInput] = []
    pending: list[tuple[Group, dict[str, int]]] = []
    # One serializer for the chunk: its fields are built once (building them costs more than validating).
    validator = OrderCreateSerializer()
    for group in groups:
        item, errors, source = _check(group, parsed, columns, validator)
        if item is None:
            outcome.failed += 1
            outcome.errors.extend(_row_errors(group, errors))
            continue
        items.append(item)
        pending.append((group, source))
    results = services.order_create_many(tenant=tenant, items=items, actor=actor) if items else []
    for (group, source), result in zip(pending, results, strict=True):
        if result.status == 201:
            outcome.created += 1
        elif result.status == 409:
            outcome.duplicates += 1
        else:
            outcome.failed += 1
            located = [_error(*_locate(e.get("field"), group, source), e["message"]) for e in result.errors]
            outcome.errors.extend(_row_errors(group, located))
    outcome.errors.sort(key=lambda e: (e["row"], e["field"] or ""))
    return outcome


# -- running a job -------------------------------------------------------------------------


def chunk_size(total: int) -> int:
    """Up to MAX_CHUNK orders per transaction, smaller for small files so that the progress bar moves."""
    return max(MIN_CHUNK, min(MAX_CHUNK, math.ceil(total / 50)))


def import_run(*, import_id, max_chunks: int | None = None) -> str:
    """Import the rest of a job, one committed chunk at a time; safe to run again at any point.

    ``max_chunks`` stops early (the job stays running): for tests that stand in for a killed worker.
    """
    job = OrderImport.objects.filter(pk=import_id).only("status", "tenant_id", "content", "total").first()
    if job is None:
        return "missing"
    if job.status in {ImportStatus.DONE, ImportStatus.FAILED}:
        return job.status
    try:
        parsed = parse(job.content)
    except ImportRefused as exc:  # accepted once, so only a change of the limits can get here
        now = timezone.now()
        OrderImport.objects.filter(pk=job.pk, status__in=_ACTIVE).update(
            status=ImportStatus.FAILED,
            errors=[_error(1, None, exc.message)],
            error_count=1,
            finished_at=now,
            updated_at=now,
        )
        return ImportStatus.FAILED
    tenant = Tenant.objects.get(pk=job.tenant_id)
    size = chunk_size(len(parsed.groups))
    chunks = 0
    while True:
        with transaction.atomic():
            # The lock makes a second worker on the same job wait, then go on after this chunk.
            job = (
                order_import_qs_select_for_update()
                .only("status", "processed", "total", "error_count", "created_by", "started_at")
                .get(pk=import_id)
            )
            if job.status in {ImportStatus.DONE, ImportStatus.FAILED}:
                return job.status
            start = job.processed
            groups = parsed.groups[start : start + size]
            outcome = _import_chunk(tenant=tenant, parsed=parsed, groups=groups, actor=job.created_by)
            now = timezone.now()
            room = max(MAX_STORED_ERRORS - job.error_count, 0)
            processed = start + len(groups)
            finished = processed >= len(parsed.groups)
            changes = {
                "processed": processed,
                "created": F("created") + outcome.created,
                "duplicates": F("duplicates") + outcome.duplicates,
                "failed": F("failed") + outcome.failed,
                "error_count": F("error_count") + len(outcome.errors),
                "status": ImportStatus.DONE if finished else ImportStatus.RUNNING,
                "updated_at": now,
            }
            if job.started_at is None:
                changes["started_at"] = now
            if finished:
                changes["finished_at"] = now
            if outcome.errors and room:
                current = OrderImport.objects.filter(pk=job.pk).values_list("errors", flat=True).get()
                # Kept in row order (an order's rows need not be next to each other in the file).
                changes["errors"] = sorted(list(current) + outcome.errors[:room], key=lambda e: e["row"])
            OrderImport.objects.filter(pk=job.pk).update(**changes)
        chunks += 1
        if finished:
            return ImportStatus.DONE
        if max_chunks is not None and chunks >= max_chunks:
            return ImportStatus.RUNNING


def stuck_import_ids(*, older_than_seconds: int = STUCK_AFTER_SECONDS) -> list:
    """Imports queued or running that have not committed a chunk for a while (a lost or killed task)."""
    cutoff = timezone.now() - timezone.timedelta(seconds=older_than_seconds)
    return list(
        OrderImport.objects.filter(status__in=_ACTIVE, updated_at__lt=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:100]
    )


# -- the error file ------------------------------------------------------------------------


def error_rows(job: OrderImport) -> tuple[list[str], list[list]]:
    """The header and rows of the error CSV: each failed row once, its errors first, then its cells as uploaded."""
    by_row: dict[int, list[dict]] = {}
    for error in job.errors:
        by_row.setdefault(error["row"], []).append(error)
    if not by_row:
        return list(ERROR_COLUMNS), []
    try:
        parsed = parse(job.content)
    except ImportRefused:
        parsed = None
    header = [h for h in (parsed.header if parsed else []) if h.lower() not in ERROR_COLUMNS]
    keep = [i for i, c in enumerate(parsed.header if parsed else []) if c.lower() not in ERROR_COLUMNS]
    cells_by_row = {}
    if parsed:
        for group in parsed.groups:
            for row in group.rows:
                if row.number in by_row:
                    cells_by_row[row.number] = [row.cells[i] if i < len(row.cells) else "" for i in keep] + row.cells[
                        len(parsed.header) :
                    ]
    rows = []
    for number in sorted(by_row):
        errors = by_row[number]
        fields = "; ".join(e["field"] or "" for e in errors)
        messages = "; ".join((f"{e['field']}: " if e["field"] else "") + e["message"] for e in errors)
        rows.append([number, fields, messages, *cells_by_row.get(number, [])])
    return [*ERROR_COLUMNS, *header], rows


def error_file_name(job: OrderImport) -> str:
    """``<uploaded name>-errors.csv``, with only safe characters (it goes into a header)."""
    stem = (job.file_name.rsplit(".", 1)[0] or "import")[:80]
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in stem) + "-errors.csv"
