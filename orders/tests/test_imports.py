"""CSV order imports through the API and the import service: refusals, row errors, duplicates, resume."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from fulfillment.tenancy.tests.factories import staff_with_token, tenant_with_key
from inventory.tests import factories as inv
from orders import imports, services, tasks
from orders.models import ImportStatus, Order, OrderImport, OrderLine
from tests.threads import race

pytestmark = pytest.mark.django_db

URL = "/api/v1/order-imports/"


def line(external_id="SHOP-1", sku="TEE-RED-M", quantity="2", **overrides) -> dict:
    """One CSV row (an order line) with a valid Canadian address."""
    return {
        "external_id": external_id,
        "shipping_method": "standard",
        "payment_status": "paid",
        "currency": "CAD",
        "ship_to_name": "Ada Lovelace",
        "ship_to_company": "",
        "ship_to_line1": "123 King St W",
        "ship_to_line2": "",
        "ship_to_city": "Toronto",
        "ship_to_region": "ON",
        "ship_to_postal_code": "M5H 1A1",
        "ship_to_country": "CA",
        "ship_to_phone": "+14165550100",
        "ship_to_email": "ada@example.com",
        "sku": sku,
        "quantity": quantity,
        "unit_price": "19.99",
        "warehouse": "",
        **overrides,
    }


def csv_bytes(rows: list[dict], header: list[str] | None = None) -> bytes:
    header = header or list(imports.COLUMNS)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(column, "") for column in header])
    return out.getvalue().encode()


def upload(client, data: bytes, name: str = "orders.csv"):
    return client.post(URL, {"file": SimpleUploadedFile(name, data, content_type="text/csv")}, format="multipart")


@pytest.fixture
def merchant(api_as):
    tenant, key = tenant_with_key(slug="acme")
    wh = inv.warehouse()
    inv.product(tenant, "TEE-RED-M")
    inv.product(tenant, "MUG-BLK")
    return tenant, wh, api_as(key)


@pytest.fixture
def run_tasks(django_capture_on_commit_callbacks):
    """Runs what a request enqueued (tests run Celery eagerly, on commit)."""

    def run(call):
        with django_capture_on_commit_callbacks(execute=True):
            return call()

    return run


def test_upload_answers_202_and_the_import_creates_the_orders(merchant, run_tasks):
    tenant, _wh, client = merchant
    data = csv_bytes([line("SHOP-1"), line("SHOP-1", sku="MUG-BLK", quantity="1"), line("SHOP-2")])
    response = run_tasks(lambda: upload(client, data, name="june.csv"))
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "queued"
    assert body["file_name"] == "june.csv"
    assert body["total"] == 2
    assert response["Location"].endswith(f"/api/v1/order-imports/{body['id']}/")
    job = client.get(f"{URL}{body['id']}/").json()
    assert {k: job[k] for k in ("status", "total", "processed", "created", "duplicates", "failed", "errors")} == {
        "status": "done",
        "total": 2,
        "processed": 2,
        "created": 2,
        "duplicates": 0,
        "failed": 0,
        "errors": [],
    }
    assert job["finished_at"] and job["created_at"]
    order = Order.objects.get(tenant=tenant, external_id="SHOP-1")
    assert sorted(order.lines.values_list("sku", "quantity")) == [("MUG-BLK", 1), ("TEE-RED-M", 2)]
    assert order.ship_to["postal_code"] == "M5H 1A1"
    assert str(order.lines.get(sku="TEE-RED-M").unit_price) == "19.99"
    assert order.events.filter(type="created").exists()


def test_row_errors_name_the_row_and_column_and_valid_orders_are_created(merchant, run_tasks):
    _tenant, _wh, client = merchant
    rows = [
        line("GOOD-1"),  # row 2
        line("BAD-QTY", quantity="two"),  # row 3
        line("BAD-QTY", sku="MUG-BLK", quantity="1"),  # row 4: fine itself, but its order fails
        line("BAD-SKU", sku="NOPE"),  # row 5
        line("BAD-COUNTRY", ship_to_country="Canada"),  # row 6
        line("GOOD-2", shipping_method="express"),  # row 7
    ]
    job_id = run_tasks(lambda: upload(client, csv_bytes(rows))).json()["id"]
    job = client.get(f"{URL}{job_id}/").json()
    assert (job["created"], job["duplicates"], job["failed"], job["processed"], job["total"]) == (2, 0, 3, 5, 5)
    assert job["errors"] == [
        {"row": 3, "field": "quantity", "message": "A valid integer is required."},
        {"row": 4, "field": None, "message": "order BAD-QTY not imported: see row 3"},
        {"row": 5, "field": "sku", "message": "unknown SKU NOPE"},
        {"row": 6, "field": "ship_to_country", "message": "This value does not match the required pattern."},
    ]
    assert job["error_count"] == 4
    assert sorted(Order.objects.values_list("external_id", flat=True)) == ["GOOD-1", "GOOD-2"]


def test_order_columns_that_disagree_are_row_errors_and_later_rows_may_leave_them_empty(merchant, run_tasks):
    _tenant, _wh, client = merchant
    rows = [
        line("SHOP-1"),
        line("SHOP-1", sku="MUG-BLK", shipping_method="", currency="", ship_to_name=""),  # empty: inherits
        line("SHOP-2"),
        line("SHOP-2", sku="MUG-BLK", ship_to_city="Ottawa"),  # row 5 disagrees with row 4
    ]
    job_id = run_tasks(lambda: upload(client, csv_bytes(rows))).json()["id"]
    job = client.get(f"{URL}{job_id}/").json()
    assert (job["created"], job["failed"]) == (1, 1)
    assert job["errors"] == [
        {"row": 4, "field": None, "message": "order SHOP-2 not imported: see row 5"},
        {
            "row": 5,
            "field": "ship_to_city",
            "message": "differs from row 4 of the same order ('Toronto'); the order columns must agree",
        },
    ]
    assert Order.objects.get(external_id="SHOP-1").lines.count() == 2


def test_reupload_of_the_same_file_reports_duplicates_and_creates_nothing(merchant, run_tasks):
    _tenant, _wh, client = merchant
    data = csv_bytes([line("SHOP-1"), line("SHOP-2"), line("SHOP-3", sku="NOPE")])
    first = run_tasks(lambda: upload(client, data)).json()["id"]
    second = run_tasks(lambda: upload(client, data))
    assert second.status_code == 202
    job = client.get(f"{URL}{second.json()['id']}/").json()
    assert second.json()["id"] != first
    assert (job["status"], job["created"], job["duplicates"], job["failed"]) == ("done", 0, 2, 1)
    assert [e["row"] for e in job["errors"]] == [4]  # the bad order fails again; duplicates are no errors
    assert Order.objects.count() == 2
    assert OrderLine.objects.count() == 2


def test_the_same_file_while_its_import_is_still_queued_is_409_with_that_job(merchant):
    _tenant, _wh, client = merchant
    data = csv_bytes([line("SHOP-1")])
    first = upload(client, data)  # not committed in this test: the task has not run, the job is queued
    assert first.status_code == 202
    again = upload(client, data)
    assert again.status_code == 409
    assert again["Content-Type"] == "application/problem+json"
    assert again.json()["existing_import_id"] == first.json()["id"]
    assert OrderImport.objects.count() == 1


def test_list_shows_the_tenants_imports_newest_first_without_errors(merchant, run_tasks, api_as):
    tenant, _wh, client = merchant
    run_tasks(lambda: upload(client, csv_bytes([line("A-1")]), name="a.csv"))
    run_tasks(lambda: upload(client, csv_bytes([line("B-1")]), name="b.csv"))
    _other, other_key = tenant_with_key(slug="other")
    upload(api_as(other_key), csv_bytes([line("C-1")]), name="c.csv")
    body = client.get(URL).json()
    assert [job["file_name"] for job in body["results"]] == ["b.csv", "a.csv"]
    assert "errors" not in body["results"][0] and body["results"][0]["created"] == 1


def test_other_tenants_import_is_404(merchant, api_as):
    _tenant, _wh, client = merchant
    job_id = upload(client, csv_bytes([line("SHOP-1")])).json()["id"]
    _other, other_key = tenant_with_key(slug="other")
    other = api_as(other_key)
    assert other.get(f"{URL}{job_id}/").status_code == 404
    assert other.get(f"{URL}{job_id}/errors.csv").status_code == 404
    assert other.get(URL).json()["results"] == []


def test_staff_token_is_refused(merchant, api_as):
    _tenant, wh, client = merchant
    job_id = upload(client, csv_bytes([line("SHOP-1")])).json()["id"]
    _user, token = staff_with_token(username="mgr", warehouse=wh)
    staff = api_as(token)
    assert staff.get(f"{URL}{job_id}/").status_code == 403
    assert upload(staff, csv_bytes([line("SHOP-9")])).status_code == 403
    assert OrderImport.objects.count() == 1


def test_error_csv_lists_failed_rows_with_formula_cells_neutralised(merchant, run_tasks):
    _tenant, _wh, client = merchant
    rows = [line("GOOD-1"), line("=cmd|' /C calc'!A0", ship_to_name='=HYPERLINK("http://x")', sku="NOPE")]
    job_id = run_tasks(lambda: upload(client, csv_bytes(rows), name="june orders.csv")).json()["id"]
    response = client.get(f"{URL}{job_id}/errors.csv", HTTP_ACCEPT="text/csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="june_orders-errors.csv"'
    table = list(csv.reader(io.StringIO(response.content.decode())))
    assert table[0] == [*imports.ERROR_COLUMNS, *imports.COLUMNS]
    assert len(table) == 2
    failed = dict(zip(table[0], table[1], strict=True))
    assert failed["error_row"] == "3"
    assert failed["error_field"] == "sku"
    assert failed["error_message"] == "sku: unknown SKU NOPE"
    assert failed["external_id"] == "'=cmd|' /C calc'!A0"
    assert failed["ship_to_name"] == '\'=HYPERLINK("http://x")'
    assert failed["ship_to_phone"] == "'+14165550100"


def test_a_corrected_error_csv_can_be_uploaded_as_it_is(merchant, run_tasks):
    _tenant, _wh, client = merchant
    rows = [line("GOOD-1"), line("FIX-ME", sku="NOPE"), line("FIX-ME", sku="MUG-BLK")]
    job_id = run_tasks(lambda: upload(client, csv_bytes(rows))).json()["id"]
    error_file = client.get(f"{URL}{job_id}/errors.csv").content.decode()
    table = list(csv.DictReader(io.StringIO(error_file)))
    assert [(r["error_row"], r["external_id"], r["sku"]) for r in table] == [
        ("3", "FIX-ME", "NOPE"),
        ("4", "FIX-ME", "MUG-BLK"),
    ]
    fixed = error_file.replace(",NOPE,", ",TEE-RED-M,").encode()
    second = run_tasks(lambda: upload(client, fixed, name="fixed.csv"))
    assert second.status_code == 202, second.content
    job = client.get(f"{URL}{second.json()['id']}/").json()
    assert (job["created"], job["failed"], job["errors"]) == (1, 0, [])
    order = Order.objects.get(external_id="FIX-ME")
    assert order.ship_to["phone"] == "+14165550100"  # the ' the error file put before + is removed
    assert sorted(order.lines.values_list("sku", flat=True)) == ["MUG-BLK", "TEE-RED-M"]


def test_rows_are_numbered_as_a_spreadsheet_shows_them(merchant, run_tasks):
    _tenant, _wh, client = merchant
    rows = [line("SHOP-1", ship_to_line2="Floor 2\nBack door"), line("SHOP-2", quantity="0")]
    # header = row 1; SHOP-1 = row 2 (its line2 spans two lines); a blank row 3 (skipped); SHOP-2 = row 4
    data = csv_bytes(rows).replace(b"\r\nSHOP-2", b"\r\n\r\nSHOP-2")
    job_id = run_tasks(lambda: upload(client, b"\xef\xbb\xbf" + data)).json()["id"]
    job = client.get(f"{URL}{job_id}/").json()
    assert job["errors"] == [
        {"row": 4, "field": "quantity", "message": "Ensure this value is greater than or equal to 1."}
    ]
    assert Order.objects.get(external_id="SHOP-1").ship_to["line2"] == "Floor 2\nBack door"


def test_optional_columns_may_be_left_out_and_names_ignore_case(merchant, run_tasks):
    _tenant, _wh, client = merchant
    header = [c.upper() if c == "sku" else c for c in imports.REQUIRED_COLUMNS]
    rows = [{**line("SHOP-1"), "SKU": "TEE-RED-M"}]
    response = run_tasks(lambda: upload(client, csv_bytes(rows, header=header)))
    assert response.status_code == 202, response.content
    order = Order.objects.get(external_id="SHOP-1")
    assert order.lines.get().unit_price is None


# -- refusals: answered at once, nothing stored ---------------------------------------------


def _refused(response, status: int, *fragments: str):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    detail = response.json()["detail"]
    for fragment in fragments:
        assert fragment in detail, detail
    assert OrderImport.objects.count() == 0
    assert Order.objects.count() == 0
    return detail


def test_no_file_is_refused(merchant):
    _tenant, _wh, client = merchant
    _refused(client.post(URL, {}, format="multipart"), 400, "'file'")


def test_a_json_body_is_refused(merchant):
    _tenant, _wh, client = merchant
    _refused(client.post(URL, {"file": "x"}, format="json"), 415)


def test_a_file_that_is_not_utf8_is_refused_naming_the_byte_and_line(merchant):
    _tenant, _wh, client = merchant
    data = csv_bytes([line("SHOP-1"), line("SHOP-2", ship_to_name="Jos\u00e9")]).replace(
        "Jos\u00e9".encode(), "Jos\u00e9".encode("latin-1")
    )
    _refused(upload(client, data), 422, "not UTF-8", "0xE9", "line 3")


def test_nul_bytes_are_refused(merchant):
    _tenant, _wh, client = merchant
    data = csv_bytes([line("SHOP-1")]) + b"SHOP-2\x00,standard\r\n"
    _refused(upload(client, data), 422, "NUL byte", "line 3")


def test_missing_required_columns_are_named(merchant):
    _tenant, _wh, client = merchant
    header = [c for c in imports.COLUMNS if c not in {"currency", "ship_to_country"}]
    _refused(
        upload(client, csv_bytes([line()], header=header)), 422, "missing required columns: currency, ship_to_country"
    )


def test_unknown_columns_are_named(merchant):
    _tenant, _wh, client = merchant
    header = [*imports.COLUMNS, "gift_wrap", "colour"]
    _refused(upload(client, csv_bytes([line()], header=header)), 422, "unknown columns: gift_wrap, colour")


def test_an_empty_file_and_a_header_without_rows_are_refused(merchant):
    _tenant, _wh, client = merchant
    _refused(upload(client, b""), 422, "empty")
    _refused(upload(client, b"\xef\xbb\xbf\r\n"), 422, "empty")
    _refused(upload(client, csv_bytes([])), 422, "no order rows")


def test_a_file_over_10_mb_is_refused_with_the_limit(merchant):
    _tenant, _wh, client = merchant
    data = csv_bytes([line()]) + b"x" * imports.MAX_BYTES
    _refused(upload(client, data), 413, "10 MB")


def test_a_file_over_50000_rows_is_refused_with_the_limit(merchant):
    _tenant, _wh, client = merchant
    one = csv_bytes([line("SHOP-1")]).split(b"\r\n")[1] + b"\r\n"
    data = csv_bytes([]) + one * (imports.MAX_ROWS + 1)
    assert len(data) < imports.MAX_BYTES
    _refused(upload(client, data), 413, "50,000 rows")


def test_broken_quoting_is_refused_with_the_line(merchant):
    _tenant, _wh, client = merchant
    data = csv_bytes([line("SHOP-1")]) + b'SHOP-2,"standard"x,paid\r\n'
    _refused(upload(client, data), 422, "not valid CSV at line 3")


# -- running the import: chunks, crash safety, the sweep -------------------------------------


def _queued_job(tenant, count: int, *, bad_every: int = 0) -> OrderImport:
    rows = [
        line(f"SHOP-{i:03d}", sku="NOPE" if bad_every and i % bad_every == 0 else "TEE-RED-M") for i in range(count)
    ]
    return imports.import_create(tenant=tenant, file_name="big.csv", data=csv_bytes(rows), actor="test")


def test_a_killed_worker_resumes_from_processed_without_doubles(merchant):
    tenant, _wh, _client = merchant
    job = _queued_job(tenant, 60, bad_every=10)
    assert imports.chunk_size(60) == 25
    assert imports.import_run(import_id=job.pk, max_chunks=1) == ImportStatus.RUNNING
    job.refresh_from_db()
    assert (job.status, job.processed, job.created, job.failed) == (ImportStatus.RUNNING, 25, 22, 3)
    assert Order.objects.count() == 22

    tasks.import_orders(import_id=str(job.pk))  # the redelivered task

    job.refresh_from_db()
    assert (job.status, job.processed, job.created, job.duplicates, job.failed) == (ImportStatus.DONE, 60, 54, 0, 6)
    assert Order.objects.count() == 54
    assert len({e["row"] for e in job.errors}) == 6 and job.error_count == 6


def test_a_chunk_that_dies_midway_leaves_neither_orders_nor_counts(merchant, monkeypatch):
    tenant, _wh, _client = merchant
    job = _queued_job(tenant, 60)
    imports.import_run(import_id=job.pk, max_chunks=1)
    real = services.order_create_many

    def dies_after_creating(**kwargs):
        real(**kwargs)  # the orders are written, then the worker is killed before the chunk commits
        raise SystemExit("worker killed")

    monkeypatch.setattr(services, "order_create_many", dies_after_creating)
    with pytest.raises(SystemExit):
        imports.import_run(import_id=job.pk)
    job.refresh_from_db()
    assert (job.processed, job.created) == (25, 25)
    assert Order.objects.count() == 25

    monkeypatch.setattr(services, "order_create_many", real)
    tasks.import_orders(import_id=str(job.pk))
    job.refresh_from_db()
    assert (job.status, job.processed, job.created, job.duplicates) == (ImportStatus.DONE, 60, 60, 0)
    assert Order.objects.count() == 60


def test_running_a_finished_import_again_does_nothing(merchant):
    tenant, _wh, _client = merchant
    job = _queued_job(tenant, 3)
    assert imports.import_run(import_id=job.pk) == ImportStatus.DONE
    finished_at = OrderImport.objects.get(pk=job.pk).finished_at
    assert tasks.import_orders(import_id=str(job.pk)) == ImportStatus.DONE
    job.refresh_from_db()
    assert (job.created, job.duplicates, job.finished_at) == (3, 0, finished_at)
    assert Order.objects.count() == 3


def test_the_sweep_runs_imports_that_stopped_moving(merchant, django_capture_on_commit_callbacks):
    tenant, _wh, _client = merchant
    stuck = _queued_job(tenant, 3)
    fresh = imports.import_create(tenant=tenant, file_name="new.csv", data=csv_bytes([line("NEW-1")]), actor="t")
    OrderImport.objects.filter(pk=stuck.pk).update(updated_at=timezone.now() - timedelta(minutes=11))
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.sweep_stuck_imports() == 1
    stuck.refresh_from_db()
    fresh.refresh_from_db()
    assert (stuck.status, stuck.created) == (ImportStatus.DONE, 3)
    assert fresh.status == ImportStatus.QUEUED


def test_only_the_first_1000_errors_are_kept_and_all_are_counted(merchant):
    tenant, _wh, _client = merchant
    rows = [line(f"BAD-{i:04d}", quantity="0") for i in range(1100)]
    job = imports.import_create(tenant=tenant, file_name="bad.csv", data=csv_bytes(rows), actor="test")
    imports.import_run(import_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.failed, job.created, job.error_count) == (ImportStatus.DONE, 1100, 0, 1100)
    assert len(job.errors) == imports.MAX_STORED_ERRORS
    assert job.errors[0] == {
        "row": 2,
        "field": "quantity",
        "message": "Ensure this value is greater than or equal to 1.",
    }


def test_an_upload_with_an_idempotency_key_is_answered_once(merchant, run_tasks):
    _tenant, _wh, client = merchant
    data = csv_bytes([line("SHOP-1")])
    first = run_tasks(
        lambda: client.post(
            URL, {"file": SimpleUploadedFile("a.csv", data)}, format="multipart", HTTP_IDEMPOTENCY_KEY="k-1"
        )
    )
    again = client.post(
        URL, {"file": SimpleUploadedFile("a.csv", data)}, format="multipart", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert first.status_code == again.status_code == 202
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert OrderImport.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_on_the_same_import_create_each_order_once(monkeypatch):
    tenant, _key = tenant_with_key(slug="acme")
    inv.warehouse()
    inv.product(tenant, "TEE-RED-M")
    monkeypatch.setattr(imports, "enqueue", lambda *args, **kwargs: None)  # the two workers below run it
    rows = [line(f"SHOP-{i:03d}") for i in range(120)]
    job = imports.import_create(tenant=tenant, file_name="x.csv", data=csv_bytes(rows), actor="t")
    outcomes = race([lambda: imports.import_run(import_id=job.pk)] * 2)
    job.refresh_from_db()
    assert outcomes == [ImportStatus.DONE, ImportStatus.DONE]
    assert (job.status, job.processed, job.created, job.duplicates, job.failed) == (ImportStatus.DONE, 120, 120, 0, 0)
    assert Order.objects.filter(tenant=tenant).count() == 120
