"""The merchant portal's CSV import pages: upload form, recent imports, progress, errors."""

from __future__ import annotations

import csv
import io
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from fulfillment.tenancy.services import merchant_user_create, staff_create
from fulfillment.tenancy.tests.factories import TenantFactory
from inventory.tests import factories as inv
from orders import imports
from orders.models import ImportStatus, Order, OrderImport
from orders.tests.test_imports import csv_bytes, line
from tests.browser import CHROMIUM, login

pytestmark = pytest.mark.django_db

PAGE = "/portal/imports/"


@pytest.fixture
def portal(client):
    tenant = TenantFactory(slug="acme")
    inv.warehouse()
    inv.product(tenant, "TEE-RED-M")
    merchant_user_create(tenant=tenant, username="shop", password="pass-word-123")
    client.login(username="shop", password="pass-word-123")
    return tenant, client


def _post(client, data: bytes, name: str = "orders.csv"):
    return client.post(PAGE, {"file": SimpleUploadedFile(name, data, content_type="text/csv")})


def test_upload_redirects_to_the_import_that_shows_its_progress_and_results(portal, django_capture_on_commit_callbacks):
    tenant, client = portal
    data = csv_bytes([line("SHOP-1"), line("SHOP-2", sku="NOPE")])
    with django_capture_on_commit_callbacks(execute=False):  # the import has not run yet: queued
        response = _post(client, data, name="june.csv")
    job = OrderImport.objects.get(tenant=tenant)
    assert response.status_code == 302
    assert response["Location"] == f"/portal/imports/{job.pk}/"

    queued = client.get(response["Location"])
    html = queued.content.decode()
    assert queued.status_code == 200
    assert '<progress id="progress-bar" max="2" value="0"' in html
    assert f'data-url="/portal/imports/{job.pk}/progress.json"' in html
    assert "setTimeout(poll, 1000)" in html  # polls while not finished

    imports.import_run(import_id=job.pk)
    assert client.get(f"/portal/imports/{job.pk}/progress.json").json() == {
        "status": "done",
        "total": 2,
        "processed": 2,
        "created": 1,
        "duplicates": 0,
        "failed": 1,
        "error_count": 1,
    }
    done = client.get(f"/portal/imports/{job.pk}/").content.decode()
    assert '<progress id="progress-bar" max="2" value="2"' in done
    assert "setTimeout(poll" not in done  # finished: no more polling
    assert '<td class="num">3</td><td class="mono">sku</td><td class="wrap">unknown SKU NOPE</td>' in done
    assert f'href="/portal/imports/{job.pk}/errors.csv"' in done

    listing = client.get(PAGE).content.decode()
    assert f'data-import="{job.pk}"' in listing and "june.csv" in listing


def test_error_csv_download_neutralises_formula_cells(portal, django_capture_on_commit_callbacks):
    tenant, client = portal
    with django_capture_on_commit_callbacks(execute=True):
        _post(client, csv_bytes([line("SHOP-1", sku="NOPE", ship_to_name="=cmd|' /C calc'!A0")]))
    job = OrderImport.objects.get(tenant=tenant)
    response = client.get(f"/portal/imports/{job.pk}/errors.csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["error_row"], r["error_field"], r["ship_to_name"]) for r in rows] == [
        ("2", "sku", "'=cmd|' /C calc'!A0")
    ]


def test_a_refused_upload_is_shown_on_the_form_and_creates_nothing(portal):
    _tenant, client = portal
    header = [c for c in imports.COLUMNS if c != "currency"]
    response = _post(client, csv_bytes([line()], header=header))
    assert response.status_code == 422
    html = response.content.decode()
    assert "missing required columns: currency" in html
    assert "Nothing was imported." in html
    assert OrderImport.objects.count() == 0 and Order.objects.count() == 0

    empty = client.post(PAGE, {})
    assert empty.status_code == 422
    assert "Choose a CSV file to upload." in empty.content.decode()
    assert OrderImport.objects.count() == 0


def test_another_tenants_import_is_404(portal):
    _tenant, client = portal
    other = TenantFactory(slug="other")
    job = imports.import_create(tenant=other, file_name="x.csv", data=csv_bytes([line()]), actor="t")
    assert client.get(f"/portal/imports/{job.pk}/").status_code == 404
    assert client.get(f"/portal/imports/{job.pk}/progress.json").status_code == 404
    assert client.get(f"/portal/imports/{job.pk}/errors.csv").status_code == 404
    assert f'data-import="{job.pk}"' not in client.get(PAGE).content.decode()


def test_staff_get_403_and_anonymous_users_go_to_login(client):
    assert client.get(PAGE)["Location"].startswith("/login/")
    staff_create(username="mgr", password="pass-word-123", role="manager")
    client.login(username="mgr", password="pass-word-123")
    assert client.get(PAGE).status_code == 403
    assert _post(client, csv_bytes([line()])).status_code == 403
    assert OrderImport.objects.count() == 0


def test_the_portal_session_can_use_the_import_api(portal):
    tenant, client = portal
    response = client.post(
        "/api/v1/order-imports/", {"file": SimpleUploadedFile("a.csv", csv_bytes([line()]), content_type="text/csv")}
    )
    assert response.status_code == 202, response.content
    assert OrderImport.objects.get().status == ImportStatus.QUEUED
    assert client.get(f"/api/v1/order-imports/{response.json()['id']}/").status_code == 200


# -- in a browser, at 360 px -------------------------------------------------------------------


@pytest.fixture
def browser_merchant():
    tenant = TenantFactory(slug="acme")
    inv.warehouse()
    inv.product(tenant, "TEE-RED-M")
    merchant_user_create(tenant=tenant, username="shop", password="pass-word-123")
    return tenant


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium at /usr/bin/chromium")
def test_upload_in_a_browser_shows_the_result_at_360px(browser_merchant, page, live_server):
    login(page, live_server.url, "shop")
    page.goto(f"{live_server.url}{PAGE}")
    assert _fits(page)
    page.set_input_files(
        "input[type=file]", files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": b"x,y\n1,2\n"}]
    )
    with page.expect_navigation():
        page.click("#upload-form button[type=submit]")
    assert "unknown columns: x, y" in page.inner_text(".error-box")
    assert _fits(page)

    data = csv_bytes([line("SHOP-1"), line("SHOP-2", sku="NOPE")])
    page.set_input_files("input[type=file]", files=[{"name": "june.csv", "mimeType": "text/csv", "buffer": data}])
    with page.expect_navigation():
        page.click("#upload-form button[type=submit]")
    # The import ran when the upload committed (Celery is eager in tests): the page shows the result.
    assert page.inner_text("[data-field=status]") == "Done"
    assert page.inner_text("#import-errors tbody").split("\t")[:2] == ["3", "sku"]
    assert _fits(page)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium at /usr/bin/chromium")
def test_the_progress_bar_follows_a_running_import_and_shows_errors_when_done(
    browser_merchant, page, live_server, monkeypatch
):
    monkeypatch.setattr(imports, "enqueue", lambda *args, **kwargs: None)  # a worker that has not started yet
    rows = [line(f"SHOP-{i:02d}", sku="NOPE" if i == 7 else "TEE-RED-M") for i in range(60)]
    job = imports.import_create(tenant=browser_merchant, file_name="big.csv", data=csv_bytes(rows), actor="t")
    login(page, live_server.url, "shop")
    page.goto(f"{live_server.url}/portal/imports/{job.pk}/")
    assert page.inner_text("[data-field=status]") == "Queued"
    assert page.get_attribute("#progress-bar", "value") == "0"

    imports.import_run(import_id=job.pk, max_chunks=1)
    page.wait_for_function("document.getElementById('progress-bar').value == 25", timeout=5000)
    assert page.inner_text("[data-field=status]") == "Running"
    assert page.inner_text("[data-field=created]") == "24"

    imports.import_run(import_id=job.pk)
    page.wait_for_selector("#import-errors", timeout=5000)  # reloaded once, with the error table
    assert page.inner_text("[data-field=status]") == "Done"
    assert page.get_attribute("#progress-bar", "value") == "60"
    assert _fits(page)
