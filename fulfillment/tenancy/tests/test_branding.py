"""Merchant branding: GET/PATCH /api/v1/branding/, the portal's Branding page and the public logo URL.
Every refusal changes nothing."""

from __future__ import annotations

import base64
import hashlib
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from fulfillment.tenancy import services
from fulfillment.tenancy.models import Tenant, TenantLogo
from fulfillment.tenancy.tests.factories import image_bytes, staff_with_token, tenant_with_key
from tests.browser import CHROMIUM, login

pytestmark = pytest.mark.django_db

URL = "/api/v1/branding/"
PASSWORD = "pass-word-123"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture
def shop(api_as):
    tenant, key = tenant_with_key(slug="acme", name="Acme Apparel")
    return tenant, api_as(key)


def _state(tenant) -> tuple:
    """What a refusal must leave as it was: the tenant's colour and message, and its logo."""
    tenant.refresh_from_db()
    logo = TenantLogo.objects.filter(tenant_id=tenant.pk).values_list("sha256", "content_type").first()
    return tenant.brand_color, tenant.slip_message, logo


def _branded(tenant):
    services.tenant_branding_update(
        tenant_id=tenant.pk, brand_color="#112233", slip_message="Thanks!", logo=image_bytes()
    )
    return _state(tenant)


# -- the API ---------------------------------------------------------------------------------


def test_get_answers_empty_branding_for_a_new_merchant(shop):
    _tenant, client = shop

    response = client.get(URL)

    assert response.status_code == 200
    assert response.json() == {
        "name": "Acme Apparel",
        "brand_color": "",
        "slip_message": "",
        "logo_url": None,
        "logo_content_type": None,
    }


def test_patch_sets_colour_message_and_logo_and_the_logo_is_served_at_its_url(shop, client):
    tenant, api = shop
    logo = image_bytes()

    response = api.patch(
        URL, {"brand_color": "#1f6feb", "slip_message": "Thanks for shopping with us", "logo": b64(logo)}, format="json"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    digest = hashlib.sha256(logo).hexdigest()
    assert body["brand_color"] == "#1F6FEB"
    assert body["slip_message"] == "Thanks for shopping with us"
    assert body["logo_content_type"] == "image/png"
    assert body["logo_url"] == f"http://testserver/brand/acme/logo?v={digest[:12]}"
    assert api.get(URL).json() == body
    served = client.get(body["logo_url"])
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    assert served["ETag"] == f'"{digest}"'
    assert served["Cache-Control"] == "public, max-age=31536000, immutable"  # the versioned URL never changes
    assert served.content == logo
    assert client.get("/brand/acme/logo")["Cache-Control"] == "public, max-age=300"
    assert client.get("/brand/acme/logo?v=000000000000")["Cache-Control"] == "public, max-age=300"


def test_the_logo_url_answers_304_to_its_etag(shop, client):
    tenant, _api = shop
    _branded(tenant)
    first = client.get("/brand/acme/logo")

    again = client.get("/brand/acme/logo", HTTP_IF_NONE_MATCH=first["ETag"])

    assert again.status_code == 304
    assert again.content == b""
    assert client.get("/brand/acme/logo", HTTP_IF_NONE_MATCH='"other"').status_code == 200


def test_the_logo_url_is_404_without_a_logo_or_a_tenant(shop, client):
    assert client.get("/brand/acme/logo").status_code == 404
    assert client.get("/brand/nobody/logo").status_code == 404


def test_a_jpeg_logo_sent_as_a_data_url_is_accepted(shop):
    tenant, api = shop
    jpeg = image_bytes(kind="JPEG")

    response = api.patch(URL, {"logo": "data:image/jpeg;base64," + b64(jpeg)}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["logo_content_type"] == "image/jpeg"
    assert bytes(TenantLogo.objects.get(tenant_id=tenant.pk).content) == jpeg


def test_patch_with_only_a_message_keeps_the_colour_and_logo(shop):
    tenant, api = shop
    colour, _message, logo = _branded(tenant)

    response = api.patch(URL, {"slip_message": "See you soon"}, format="json")

    assert response.status_code == 200
    assert _state(tenant) == (colour, "See you soon", logo)


def test_a_null_logo_removes_it(shop, client):
    tenant, api = shop
    _branded(tenant)

    response = api.patch(URL, {"logo": None}, format="json")

    assert response.status_code == 200
    assert response.json()["logo_url"] is None
    assert not TenantLogo.objects.filter(tenant_id=tenant.pk).exists()
    assert client.get("/brand/acme/logo").status_code == 404


@pytest.mark.parametrize("colour", ["1F6FEB", "#1F6FE", "#GGGGGG", "red", "#1F6FEB00"])
def test_a_bad_colour_is_422_naming_brand_color_and_changes_nothing(shop, colour):
    tenant, api = shop
    before = _branded(tenant)

    response = api.patch(URL, {"brand_color": colour, "slip_message": "New message"}, format="json")

    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == ["brand_color"]
    assert _state(tenant) == before


def test_a_too_long_slip_message_is_422_and_changes_nothing(shop):
    tenant, api = shop
    before = _branded(tenant)

    response = api.patch(URL, {"slip_message": "x" * 301, "brand_color": "#000000"}, format="json")

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["slip_message"]
    assert _state(tenant) == before


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"this is not an image at all", "not_an_image"),
        (image_bytes(kind="GIF"), "not_an_image"),
        (image_bytes(kind="BMP"), "not_an_image"),
        (image_bytes((300, 300))[:200], "broken_image"),  # a PNG cut short
        (image_bytes((2049, 8)), "too_many_pixels"),
        (image_bytes((8, 4000)), "too_many_pixels"),
        (image_bytes((320, 320), noise=True), "too_large"),  # ~300 KB of random pixels
    ],
    ids=["text", "gif", "bmp", "truncated", "too-wide", "too-tall", "too-large"],
)
def test_a_logo_that_is_no_usable_png_or_jpeg_is_422_and_changes_nothing(shop, content, code):
    tenant, api = shop
    before = _branded(tenant)

    response = api.patch(URL, {"logo": b64(content), "brand_color": "#445566", "slip_message": "New"}, format="json")

    assert response.status_code == 422, response.content
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [("logo", code)]
    assert _state(tenant) == before


def test_a_decompression_bomb_is_refused_before_it_is_decoded(shop):
    """A PNG header that claims 30,000 × 30,000 pixels (the file itself is tiny)."""
    import struct
    import zlib

    tenant, api = shop
    before = _branded(tenant)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    bomb = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0))
    bomb += chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) + chunk(b"IEND", b"")

    response = api.patch(URL, {"logo": b64(bomb)}, format="json")

    assert response.status_code == 422
    assert [e["code"] for e in response.json()["errors"]] == ["too_many_pixels"]
    assert _state(tenant) == before


def test_a_logo_that_is_not_base64_is_422_and_changes_nothing(shop):
    tenant, api = shop
    before = _branded(tenant)

    response = api.patch(URL, {"logo": "not base64 !!"}, format="json")

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["logo"]
    assert _state(tenant) == before


def test_an_empty_patch_is_422(shop):
    assert shop[1].patch(URL, {}, format="json").status_code == 422


def test_a_staff_token_cannot_read_or_change_branding(shop, api_as):
    _, token = staff_with_token(username="mgr")
    staff = api_as(token)

    assert staff.get(URL).status_code == 403
    assert staff.patch(URL, {"brand_color": "#000000"}, format="json").status_code == 403


def test_a_merchant_changes_only_its_own_branding(shop, api_as):
    tenant, api = shop
    other, other_key = tenant_with_key(slug="globex")

    api.patch(URL, {"brand_color": "#123456", "logo": b64(image_bytes())}, format="json")

    assert _state(other) == ("", "", None)
    assert api_as(other_key).get(URL).json()["logo_url"] is None


def test_the_logo_table_has_row_level_security(shop):
    """Outside any scope no logo row is visible (a shopper's request reads it in the tenant's scope)."""
    from fulfillment.tenancy import rls

    tenant, _api = shop
    _branded(tenant)
    with rls.use(rls.NONE):
        assert TenantLogo.objects.count() == 0
    with rls.tenants(tenant.pk):
        assert TenantLogo.objects.count() == 1


# -- the portal page -------------------------------------------------------------------------


@pytest.fixture
def portal(client, shop):
    tenant, _api = shop
    user = services.merchant_user_create(tenant=tenant, username="acme-web", password=PASSWORD)
    client.force_login(user)
    return tenant, client


def test_the_branding_page_is_in_the_portal_menu(portal):
    _tenant, client = portal

    page = client.get("/portal/branding/")

    assert page.status_code == 200
    html = page.content.decode()
    assert 'href="/portal/branding/" aria-current="page"' in html
    assert 'type="color"' in html and 'type="file"' in html and 'id="no-logo"' in html


def test_anonymous_users_are_sent_to_login_from_the_branding_page(client):
    response = client.get("/portal/branding/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_the_portal_saves_colour_message_and_logo_and_shows_a_preview(portal):
    tenant, client = portal
    logo = image_bytes(kind="JPEG")

    response = client.post(
        "/portal/branding/",
        {
            "brand_color": "#a1b2c3",
            "slip_message": "  Thanks for shopping with us  ",
            "logo": SimpleUploadedFile("logo.jpg", logo, content_type="image/jpeg"),
        },
    )

    assert response.status_code == 302
    assert response["Location"] == "/portal/branding/"
    colour, message, (digest, content_type) = _state(tenant)
    assert (colour, message, digest, content_type) == (
        "#A1B2C3",
        "Thanks for shopping with us",
        hashlib.sha256(logo).hexdigest(),
        "image/jpeg",
    )
    page = client.get("/portal/branding/").content.decode()
    assert f'src="/brand/acme/logo?v={digest[:12]}"' in page
    assert "Branding saved" in page


def test_the_portal_refuses_a_file_that_is_not_an_image_and_changes_nothing(portal):
    tenant, client = portal
    before = _branded(tenant)

    response = client.post(
        "/portal/branding/",
        {
            "brand_color": "#000000",
            "slip_message": "Changed",
            "logo": SimpleUploadedFile("logo.png", b"%PDF-1.4 not a png", content_type="image/png"),
        },
    )

    assert response.status_code == 422
    html = response.content.decode()
    assert "Nothing was changed" in html
    assert "The logo must be a PNG or JPEG image." in html
    assert _state(tenant) == before


def test_the_portal_refuses_a_logo_over_256_kb_and_changes_nothing(portal):
    tenant, client = portal
    before = _branded(tenant)
    big = image_bytes((320, 320), noise=True)

    response = client.post(
        "/portal/branding/",
        {"brand_color": "#112233", "slip_message": "Thanks!", "logo": SimpleUploadedFile("big.png", big)},
    )

    assert response.status_code == 422
    assert "the limit is 256 KB" in response.content.decode()
    assert _state(tenant) == before


def test_the_portal_refuses_a_bad_colour_and_changes_nothing(portal):
    tenant, client = portal
    before = _branded(tenant)

    response = client.post("/portal/branding/", {"brand_color": "blue", "slip_message": "Changed"})

    assert response.status_code == 422
    assert "Use a colour written as #RRGGBB" in response.content.decode()
    assert _state(tenant) == before


def test_the_portal_removes_the_logo_and_resets_the_colour(portal):
    tenant, client = portal
    _branded(tenant)

    response = client.post(
        "/portal/branding/",
        {"brand_color": "#112233", "default_color": "on", "slip_message": "Thanks!", "remove_logo": "on"},
    )

    assert response.status_code == 302
    assert _state(tenant) == ("", "Thanks!", None)


def test_tenant_check_constraint_refuses_a_bad_colour_in_the_database(shop):
    from django.db import IntegrityError, transaction

    tenant, _api = shop
    with pytest.raises(IntegrityError), transaction.atomic():
        Tenant.objects.filter(pk=tenant.pk).update(brand_color="blue")


# -- in a browser, at 360 px ------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium at /usr/bin/chromium")
def test_a_merchant_uploads_a_logo_on_a_360px_screen_and_sees_its_preview(page, live_server, tmp_path):
    tenant, _key = tenant_with_key(slug="acme", name="Acme Apparel")
    services.merchant_user_create(tenant=tenant, username="acme-web", password=PASSWORD)
    logo = tmp_path / "logo.png"
    logo.write_bytes(image_bytes((240, 80)))
    login(page, live_server.url, "acme-web", PASSWORD)

    page.goto(f"{live_server.url}/portal/branding/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.fill("#id_slip_message", "Thanks for shopping with us")
    page.set_input_files("#id_logo", str(logo))
    with page.expect_navigation():
        page.click("text=Save branding")

    assert page.url == f"{live_server.url}/portal/branding/"
    assert page.locator("#logo-preview img").evaluate("img => img.naturalWidth") == 240
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert _state(tenant)[1] == "Thanks for shopping with us"
