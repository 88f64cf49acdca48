"""Manager pages: waves, a new wave (preview, release), one wave, schedules; permissions."""

import re

import pytest
from django.test import Client

from fulfillment.tenancy.tests.factories import staff_with_token
from inventory.tests import factories as inv
from orders import services as orders
from orders.models import Order, Status
from orders.tests.factories import order
from picking.models import Wave, WaveSchedule
from picking.services import waves as services
from picking.tests.factories import lead_and_picker, main_floor, pick_in_full, wave_rows
from tests.browser import BROWSER_MARKS, login

pytestmark = pytest.mark.django_db

PREVIEW = "/picking/waves/new/?warehouse=MAIN&strategy=batch&max_orders=10&totes_per_cart=8&tote_volume_l=40"


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def _set_up(capture, *, count=3):
    tenant, wh = main_floor()
    inv.stock(tenant, inv.product(tenant, "TEE"), wh, "01-03-1", 100)
    with capture(execute=True):
        made = [order(tenant, external_id=f"O{i}", lines=[("TEE", 2)]) for i in range(count)]
    (lead, _), (picker, _) = lead_and_picker(wh)
    return wh, made, lead, picker


@pytest.fixture
def floor(django_capture_on_commit_callbacks):
    return _set_up(django_capture_on_commit_callbacks)


def _release_form(page: str) -> dict:
    """The hidden fields of the preview's Release form."""
    form = page[page.index('id="release-form"') :]
    form = form[: form.index("</form>")]
    return dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', form))


def test_preview_shows_the_plan_and_writes_nothing(floor):
    _, made, lead, _ = floor
    page = _client(lead).get(PREVIEW)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="plan-orders">3<' in html
    assert 'id="plan-lists">1<' in html
    assert "First come, first served" in html and "Planned as <strong>batch</strong>" in html
    assert 'id="release-button"' in html
    fields = _release_form(html)
    assert sorted(fields["order_ids"].split()) == sorted(str(o.pk) for o in made)
    assert (fields["warehouse"], fields["strategy"], fields["max_orders"]) == ("MAIN", "batch", "10")
    assert wave_rows() == (0, 0, 0, 0)


def test_the_new_wave_form_shows_what_is_waiting_by_cut_off(floor):
    _, _, lead, _ = floor
    html = _client(lead).get("/picking/waves/new/").content.decode()
    assert "Waiting in MAIN: 3 allocated orders" in html
    assert 'name="max_orders"' in html and 'id="preview"' not in html


def test_release_from_the_preview_makes_the_wave_and_goes_to_its_page(floor):
    _, made, lead, _ = floor
    client = _client(lead)
    fields = _release_form(client.get(PREVIEW).content.decode())
    response = client.post("/picking/waves/new/", fields, follow=True)
    wave = Wave.objects.get()
    assert response.redirect_chain == [(f"/picking/waves/{wave.pk}/", 302)]
    html = response.content.decode()
    assert "Wave released: 3 orders in 1 pick list" in html
    assert 'id="picks-done">0/3<' in html
    assert (wave.order_count, wave.created_by) == (3, "lead")
    assert {o.status for o in Order.objects.filter(pk__in=[o.pk for o in made])} == {Status.PICKING}


def test_release_leaves_out_orders_that_changed_since_the_preview_and_says_so(floor):
    _, made, lead, _ = floor
    client = _client(lead)
    fields = _release_form(client.get(PREVIEW).content.decode())
    orders.order_cancel(order_id=made[0].pk, reason="customer")
    html = client.post("/picking/waves/new/", fields, follow=True).content.decode()
    assert "Wave released: 2 orders" in html
    assert "1 of the previewed orders changed meanwhile (no longer allocated) and was left out." in html
    assert "did not fit the caps" not in html
    assert Wave.objects.get().order_count == 2


def test_release_says_which_previewed_orders_the_caps_left_out_and_which_changed(floor):
    _, made, lead, _ = floor
    client = _client(lead)
    fields = _release_form(client.get(PREVIEW).content.decode())
    orders.order_cancel(order_id=made[0].pk, reason="customer")

    # Released with a lower line cap than the preview's: one of the two still allocated does not fit.
    html = client.post("/picking/waves/new/", {**fields, "max_lines": "1"}, follow=True).content.decode()

    assert "Wave released: 1 order in 1 pick list" in html
    assert "1 of the previewed orders changed meanwhile (no longer allocated) and was left out." in html
    assert "1 of the previewed orders did not fit the caps and stays allocated for a later wave." in html
    statuses = sorted(Order.objects.filter(pk__in=[o.pk for o in made]).values_list("status", flat=True))
    assert statuses == sorted([Status.CANCELLED, Status.PICKING, Status.ALLOCATED])


def test_release_when_no_previewed_order_fits_the_caps_says_so_and_releases_nothing(django_capture_on_commit_callbacks):
    tenant, wh = main_floor()
    inv.stock(tenant, inv.product(tenant, "TEE"), wh, "01-03-1", 10)
    inv.stock(tenant, inv.product(tenant, "MUG"), wh, "02-03-1", 10)
    with django_capture_on_commit_callbacks(execute=True):
        made = [order(tenant, external_id=f"T{i}", lines=[("TEE", 1), ("MUG", 1)]) for i in range(2)]
    (lead, _), _picker = lead_and_picker(wh)
    client = _client(lead)
    fields = _release_form(client.get(PREVIEW).content.decode())

    # Two lines each, released with a cap of one line a wave: none fits.
    response = client.post("/picking/waves/new/", {**fields, "max_lines": "1"}, follow=True)

    assert response.redirect_chain[0][0].startswith("/picking/waves/new/?")
    html = response.content.decode()
    assert "None of the previewed orders fits these caps: nothing was released." in html
    assert "still allocated" not in html
    assert wave_rows() == (0, 0, 0, 0)
    assert {o.status for o in Order.objects.filter(pk__in=[o.pk for o in made])} == {Status.ALLOCATED}


def test_release_when_every_previewed_order_changed_releases_nothing(floor):
    _, made, lead, _ = floor
    client = _client(lead)
    fields = _release_form(client.get(PREVIEW).content.decode())
    for o in made:
        orders.order_cancel(order_id=o.pk, reason="gone")
    response = client.post("/picking/waves/new/", fields, follow=True)
    assert response.redirect_chain[0][0].startswith("/picking/waves/new/?")
    assert "None of the previewed orders is still allocated: nothing was released." in response.content.decode()
    assert wave_rows() == (0, 0, 0, 0)


def test_associates_see_the_preview_without_a_release_button_and_cannot_release(floor):
    _, made, lead, picker = floor
    fields = _release_form(_client(lead).get(PREVIEW).content.decode())
    client = _client(picker)
    html = client.get(PREVIEW).content.decode()
    assert 'id="release-button"' not in html and "Only managers release waves." in html
    assert client.post("/picking/waves/new/", fields).status_code == 403
    assert wave_rows() == (0, 0, 0, 0)
    assert {o.status for o in Order.objects.all()} == {Status.ALLOCATED}


def test_bad_caps_are_shown_on_the_form_and_nothing_is_planned(floor):
    _, _, lead, _ = floor
    page = _client(lead).get("/picking/waves/new/?warehouse=MAIN&strategy=batch&max_orders=0&totes_per_cart=8")
    assert page.status_code == 422
    html = page.content.decode()
    assert "Max orders: Ensure this value is greater than or equal to 1." in html
    assert 'id="preview"' not in html


def test_a_tampered_release_is_refused_and_changes_nothing(floor):
    _, _, lead, _ = floor
    client = _client(lead)
    fields = _release_form(client.get(PREVIEW).content.decode())
    response = client.post("/picking/waves/new/", {**fields, "order_ids": "not-an-id"}, follow=True)
    assert "The preview could not be released as sent" in response.content.decode()
    assert wave_rows() == (0, 0, 0, 0)


def test_staff_of_another_warehouse_get_404_for_the_wave_and_the_release(floor):
    wh, _, lead, _ = floor
    wave = services.wave_build(warehouse=wh, strategy="batch", max_orders=1, actor="lead")
    west_lead, _ = staff_with_token(username="west", role="manager", warehouse=inv.warehouse("WEST"))
    client = _client(west_lead)
    assert client.get(f"/picking/waves/{wave.pk}/").status_code == 404
    assert f"/picking/waves/{wave.pk}/" not in client.get("/picking/waves/").content.decode()
    remaining = [str(o.pk) for o in Order.objects.filter(status=Status.ALLOCATED)]
    response = client.post(
        "/picking/waves/new/",
        {"warehouse": "MAIN", "strategy": "batch", "max_orders": 10, "totes_per_cart": 8, "tote_volume_l": 40,
         "order_ids": " ".join(remaining)},
    )  # fmt: skip
    assert response.status_code == 404
    assert Wave.objects.count() == 1


def test_the_wave_page_shows_each_list_with_its_progress_and_picker(floor):
    wh, _, lead, picker = floor
    wave = services.wave_build(warehouse=wh, strategy="discrete", max_orders=10, actor="lead")
    first = wave.pick_lists.order_by("created_at").first()
    pick_in_full(first, first.tasks.get(), user=picker, actor="picker")
    html = _client(picker).get(f"/picking/waves/{wave.pk}/").content.decode()
    assert 'id="lists-done">1/3<' in html and 'id="picks-done">1/3<' in html
    row = html[html.index(f'data-pick-list="{first.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "picker" in row and "2/2" in row and "Done" in row


def test_the_wave_list_shows_progress_and_pages(floor):
    wh, _, lead, _ = floor
    for _ in range(3):
        services.wave_build(warehouse=wh, strategy="batch", max_orders=1, actor="lead")
    html = _client(lead).get("/picking/waves/").content.decode()
    assert html.count('data-wave="') == 3
    assert "0/1" in html and "3 waves, newest first." in html
    from picking.views import manager

    manager.PAGE_SIZE, saved = 2, manager.PAGE_SIZE
    try:
        second = _client(lead).get("/picking/waves/?page=2").content.decode()
    finally:
        manager.PAGE_SIZE = saved
    assert second.count('data-wave="') == 1 and "Page 2 of 2" in second


def test_anonymous_users_are_sent_to_login(floor):
    for url in ("/picking/waves/", "/picking/waves/new/", "/picking/schedules/"):
        response = Client().get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


# -- schedules -------------------------------------------------------------------------------------


def _schedule_form(**overrides):
    return {
        "warehouse": "MAIN",
        "name": "Morning",
        "enabled": "on",
        "strategy": "wave",
        "release_times": "09:00, 13:30",
        "max_orders": "200",
        "totes_per_cart": "8",
        "tote_volume_l": "40",
        **overrides,
    }


def test_a_manager_creates_edits_and_switches_off_a_schedule(floor):
    _, _, lead, _ = floor
    client = _client(lead)
    response = client.post("/picking/schedules/new/", _schedule_form(), follow=True)
    assert "Schedule Morning saved for MAIN." in response.content.decode()
    schedule = WaveSchedule.objects.get()
    assert (schedule.release_times, schedule.strategy, schedule.enabled) == (["09:00", "13:30"], "wave", True)
    edit = client.post(
        f"/picking/schedules/{schedule.pk}/edit/", _schedule_form(release_times="10:15", max_orders="50"), follow=True
    )
    assert "Schedule Morning saved." in edit.content.decode()
    schedule.refresh_from_db()
    assert (schedule.release_times, schedule.max_orders) == (["10:15"], 50)
    client.post(f"/picking/schedules/{schedule.pk}/toggle/", {"enabled": "0"})
    schedule.refresh_from_db()
    assert schedule.enabled is False
    assert "Switch on" in client.get("/picking/schedules/").content.decode()


def test_a_schedule_with_bad_times_or_caps_is_refused_with_clear_errors(floor):
    _, _, lead, _ = floor
    response = _client(lead).post(
        "/picking/schedules/new/", _schedule_form(release_times="9am, 14:00", tote_volume_l="0.0")
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "release times must be 24-hour local times &quot;HH:MM&quot; (e.g. 09:30): not 9am" in html
    assert "Ensure this value is greater than or equal to 0.1." in html
    assert WaveSchedule.objects.count() == 0


def test_associates_see_schedules_but_cannot_change_them(floor):
    wh, _, _, picker = floor
    schedule = services.wave_schedule_save(
        warehouse=wh, name="Day", strategy="batch", release_times="09:00", max_orders=10
    )
    client = _client(picker)
    html = client.get("/picking/schedules/").content.decode()
    assert "Day" in html and "Switch off" not in html and "New schedule" not in html
    assert client.post("/picking/schedules/new/", _schedule_form(name="Mine")).status_code == 403
    assert client.post(f"/picking/schedules/{schedule.pk}/toggle/", {"enabled": "0"}).status_code == 403
    assert client.get(f"/picking/schedules/{schedule.pk}/edit/").status_code == 403
    schedule.refresh_from_db()
    assert (schedule.enabled, WaveSchedule.objects.count()) == (True, 1)


def test_managers_of_another_warehouse_get_404_for_its_schedules(floor):
    wh, _, _, _ = floor
    schedule = services.wave_schedule_save(
        warehouse=wh, name="Day", strategy="batch", release_times="09:00", max_orders=10
    )
    west_lead, _ = staff_with_token(username="west", role="manager", warehouse=inv.warehouse("WEST"))
    client = _client(west_lead)
    assert client.get(f"/picking/schedules/{schedule.pk}/edit/").status_code == 404
    assert client.post(f"/picking/schedules/{schedule.pk}/toggle/", {"enabled": "0"}).status_code == 404
    assert "Day" not in client.get("/picking/schedules/").content.decode()
    new = client.post("/picking/schedules/new/", _schedule_form(name="Sneaky"))
    assert new.status_code == 422 and "Select a valid choice." in new.content.decode()
    schedule.refresh_from_db()
    assert (schedule.enabled, WaveSchedule.objects.count()) == (True, 1)


# -- in Chromium, at handheld width ----------------------------------------------------------------


def _browser(test):
    for mark in BROWSER_MARKS:
        test = mark(test)
    return test


@_browser
def test_a_manager_previews_and_releases_a_wave_at_360_px_without_the_page_scrolling_sideways(
    live_server, page, django_capture_on_commit_callbacks
):
    _set_up(django_capture_on_commit_callbacks, count=12)
    login(page, live_server.url, "lead")
    page.goto(f"{live_server.url}/picking/waves/new/")
    page.select_option("select[name=strategy]", "batch")
    page.fill("input[name=totes_per_cart]", "4")
    with page.expect_navigation():
        page.click("#preview-button")
    assert page.text_content("#plan-orders") == "12"
    assert page.text_content("#plan-lists") == "3"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the page is {width} px wide"  # tables scroll inside their card
    with page.expect_navigation():
        page.click("#release-button")
    assert "Wave released: 12 orders in 3 pick lists" in page.text_content(".messages")
    assert page.text_content("#lists-done") == "0/3"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert Order.objects.filter(status=Status.PICKING).count() == 12
