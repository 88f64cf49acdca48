"""Pick rates and accuracy: exact figures from hand-made scans, the manager page and its permissions.

The scans and confirmations are written directly (``scan``, ``confirm``) as the handheld flow writes
them: one PickScan per scan, accepted or refused, and the task picked or short by its picker.
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.db.models import F

from fulfillment.tenancy import services as tenancy
from fulfillment.tenancy.authentication import actor_for_user
from fulfillment.tenancy.tests.factories import TenantFactory, staff_with_token
from inventory.models import Warehouse
from inventory.tests import factories as inv
from orders.models import OrderAllocation
from orders.tests.factories import order
from picking import selectors_performance as performance
from picking.models import PickList, PickScan, PickTask, TaskStatus, Wave
from tests.browser import CHROMIUM, login

pytestmark = pytest.mark.django_db

DAY = date(2026, 1, 15)  # winter: Toronto is UTC-5
URL = "/picking/performance/"


# -- factory helpers -------------------------------------------------------------------------


def local(day: date, clock: str, tz: str = "America/Toronto") -> datetime:
    """An aware instant at ``clock`` ("HH:MM:SS") on ``day`` in the time zone ``tz``."""
    hours, minutes, seconds = (int(part) for part in clock.split(":"))
    return datetime(day.year, day.month, day.day, hours, minutes, seconds, tzinfo=ZoneInfo(tz))


def scan(task: PickTask, who: str, when: datetime, kind: str, *, error: str = "", quantity: int = 0) -> PickScan:
    """One scan by ``who`` at ``when``; refused when ``error`` (its error code) is given."""
    made = PickScan.objects.create(
        pick_list_id=task.pick_list_id,
        scan_id=uuid.uuid4().hex,
        task=task,
        user=get_user_model().objects.filter(username=who).first(),
        actor=who,
        kind=kind,
        code=f"{kind}-code",
        accepted=not error,
        error_code=error,
        quantity=quantity,
    )
    # created_at is auto_now_add: the time of the scan is set afterwards.
    PickScan.objects.filter(pk=made.pk).update(created_at=when)
    return made


def confirm(task: PickTask, who: str, when: datetime, *, units: int, short: bool = False) -> None:
    """The task done by ``who`` at ``when`` with ``units`` picked (short: the rest was missing)."""
    PickTask.objects.filter(pk=task.pk).update(
        status=TaskStatus.SHORT if short else TaskStatus.PICKED,
        picked_by=who,
        picked_at=when,
        picked_quantity=units,
        quantity=units if short else F("quantity"),
    )


def pick(task: PickTask, who: str, day: date, steps: list[tuple], *, units: int, short: bool = False, tz=None):
    """Scans ``steps`` = [(clock, kind, error?)] on ``day``; the last accepted step confirms the task."""
    zone = tz or task.pick_list.warehouse.timezone
    for clock, kind, *error in steps:
        scan(task, who, local(day, clock, zone), kind, error=error[0] if error else "")
    last = [clock for clock, _kind, *error in steps if not error][-1]
    confirm(task, who, local(day, last, zone), units=units, short=short)


@dataclass
class Floor:
    main: Warehouse
    east: Warehouse
    tasks: list[PickTask]  # MAIN's, in route order; 2 units each
    east_task: PickTask


def _tasks(warehouse, tenant, count, prefix, django_capture_on_commit_callbacks) -> list[PickTask]:
    """``count`` allocated orders of 2 units and one pick list of their tasks, written directly (as a
    wave would) so that these figures do not depend on how waves are planned."""
    with django_capture_on_commit_callbacks(execute=True):
        orders = [
            order(tenant, external_id=f"{prefix}{i}", lines=[("TEE", 2)], warehouse=warehouse.code)
            for i in range(count)
        ]
    wave = Wave.objects.create(warehouse=warehouse, strategy="batch")
    pick_list = PickList.objects.create(wave=wave, warehouse=warehouse, totes=count)
    allocations = OrderAllocation.objects.filter(line__order__in=orders).select_related("line")
    tasks = [
        PickTask.objects.create(
            tenant=tenant,
            pick_list=pick_list,
            order_id=a.line.order_id,
            allocation=a,
            location_id=a.location_id,
            product_id=a.line.product_id,
            lot_id=a.lot_id,
            quantity=a.quantity,
            tote=f"T{sequence}",
            sequence=sequence,
        )
        for sequence, a in enumerate(sorted(allocations, key=lambda a: a.line.order.external_id), start=1)
    ]
    assert len(tasks) == count
    return list(PickTask.objects.filter(pk__in=[t.pk for t in tasks]).select_related("pick_list__warehouse"))


def make_floor(django_capture_on_commit_callbacks) -> Floor:
    """MAIN (Toronto) with 7 open tasks and EAST (Paris) with 1, and their staff: associates ana,
    ben, cy and manager maria in MAIN; associate eve and manager erik in EAST."""
    tenant = TenantFactory()
    main = inv.warehouse("MAIN", aisles=1, bays=4, levels=1)
    east = inv.warehouse("EAST", aisles=1, bays=4, levels=1)
    Warehouse.objects.filter(pk=east.pk).update(timezone="Europe/Paris")
    east.refresh_from_db()
    tee = inv.product(tenant, "TEE", barcode="0012345678905")
    with django_capture_on_commit_callbacks(execute=True):
        inv.stock(tenant, tee, main, "01-02-1", 14)
        inv.stock(tenant, tee, east, "01-02-1", 2)
    tasks = _tasks(main, tenant, 7, "M", django_capture_on_commit_callbacks)
    (east_task,) = _tasks(east, tenant, 1, "E", django_capture_on_commit_callbacks)
    for name in ("ana", "ben", "cy"):
        staff_with_token(username=name, role="associate", warehouse=main)
    staff_with_token(username="maria", role="manager", warehouse=main)
    staff_with_token(username="eve", role="associate", warehouse=east)
    staff_with_token(username="erik", role="manager", warehouse=east)
    return Floor(main=main, east=east, tasks=tasks, east_task=east_task)


def picking_day(floor: Floor, day: date = DAY) -> None:
    """A day of picking in MAIN (local times) and one pick in EAST:

    - ana: t1 in 40 s; t2 after a wrong location; lunch; t3 short with 1 unit. Active 540 s.
    - ben: t4 after a wrong product; t5 after an unreadable label (not a mis-scan). Active 160 s.
    - cy: t6 at 23:30 local (04:30 UTC the next day); t7 at 00:10 local the next day.
    - eve (EAST): one pick at 10:00 Paris time.
    """
    t = floor.tasks
    pick(
        t[0],
        "ana",
        day,
        [("09:00:00", "location"), ("09:00:20", "product"), ("09:00:30", "product"), ("09:00:40", "tote")],
        units=2,
    )
    pick(
        t[1],
        "ana",
        day,
        [
            ("09:01:40", "location", "wrong_location"),
            ("09:02:00", "location"),
            ("09:02:30", "product"),
            ("09:02:40", "quantity"),
            ("09:03:00", "tote"),
        ],
        units=2,
    )
    pick(
        t[2],
        "ana",
        day,
        [("12:00:00", "location"), ("12:00:30", "product"), ("12:01:00", "short")],
        units=1,
        short=True,
    )
    pick(
        t[3],
        "ben",
        day,
        [
            ("10:00:00", "location"),
            ("10:00:30", "product", "wrong_product"),
            ("10:01:00", "product"),
            ("10:01:30", "tote"),
        ],
        units=2,
    )
    pick(
        t[4],
        "ben",
        day,
        [
            ("10:02:00", "location"),
            ("10:02:10", "product", "invalid_scan"),
            ("10:02:20", "product"),
            ("10:02:40", "tote"),
        ],
        units=2,
    )
    pick(t[5], "cy", day, [("23:29:40", "location"), ("23:30:00", "tote")], units=2)
    pick(t[6], "cy", date.fromordinal(day.toordinal() + 1), [("00:10:00", "location"), ("00:10:30", "tote")], units=2)
    pick(floor.east_task, "eve", day, [("10:00:00", "location"), ("10:00:30", "tote")], units=2)


@pytest.fixture
def floor(django_capture_on_commit_callbacks) -> Floor:
    made = make_floor(django_capture_on_commit_callbacks)
    picking_day(made)
    return made


def _actor(username: str):
    return actor_for_user(get_user_model().objects.get(username=username))


def _row(result, associate: str):
    return next(r for r in result.rows if r.associate == associate)


# -- selectors: exact figures ----------------------------------------------------------------


def test_figures_per_associate_are_exact(floor):
    result = performance.picking_performance(actor=_actor("maria"), warehouse=floor.main, start=DAY)

    ana, ben = _row(result, "ana"), _row(result, "ben")
    assert [r.associate for r in result.rows] == ["ana", "ben", "cy"]
    assert (ana.lines, ana.units, ana.short_lines, ana.lines_with_refusal) == (3, 5, 1, 1)
    assert (ana.scans, ana.refused_scans, ana.refused_by_reason) == (12, 1, {"wrong_location": 1})
    assert (ana.lines_per_hour, ana.units_per_hour, ana.accuracy_percent) == (20.0, 33.3, 66.7)
    assert (ben.lines, ben.units, ben.short_lines, ben.lines_with_refusal) == (2, 4, 0, 1)
    assert (ben.scans, ben.refused_scans) == (8, 2)
    assert ben.refused_by_reason == {"wrong_product": 1, "invalid_scan": 1}
    assert (ben.lines_per_hour, ben.units_per_hour, ben.accuracy_percent) == (45.0, 90.0, 50.0)


def test_active_time_caps_each_idle_gap_at_five_minutes(floor):
    result = performance.picking_performance(actor=_actor("maria"), warehouse=floor.main, start=DAY)

    # ana: 40 s on t1, 80 s to t2 and 60 s on it... gaps 20+10+10, 60+20+30+10+20, lunch capped at 300, 30+30.
    ana = _row(result, "ana")
    assert ana.active_seconds == 40 + 140 + 300 + 60
    assert ana.active_display == "0 h 09 min"
    assert (ana.first_scan_at, ana.last_scan_at) == (local(DAY, "09:00:00"), local(DAY, "12:01:00"))
    assert _row(result, "ben").active_seconds == 160


def test_a_refusal_that_is_not_a_mis_scan_keeps_accuracy(floor):
    # ben's t5 had an unreadable label refused as "invalid_scan": t5 still counts as accurate.
    ben = _row(performance.picking_performance(actor=_actor("maria"), warehouse=floor.main, start=DAY), "ben")

    assert ben.accurate_lines == 1
    assert ben.lines_with_refusal == 1  # t4's wrong product only


@pytest.mark.parametrize(
    ("error", "accuracy"),
    [
        ("wrong_location", 50.0),
        ("wrong_product", 50.0),
        ("wrong_lot", 50.0),
        ("wrong_tote", 50.0),
        ("over_count", 50.0),
        ("location_first", 100.0),
        ("lot_required", 100.0),
        ("invalid_scan", 100.0),
        ("stale_task", 100.0),
    ],
)
def test_only_mis_scans_lower_accuracy(django_capture_on_commit_callbacks, error, accuracy):
    floor = make_floor(django_capture_on_commit_callbacks)
    pick(
        floor.tasks[0],
        "ana",
        DAY,
        [("09:00:00", "location"), ("09:00:10", "product", error), ("09:00:30", "tote")],
        units=2,
    )
    pick(floor.tasks[1], "ana", DAY, [("09:01:00", "location"), ("09:01:30", "tote")], units=2)

    ana = _row(performance.picking_performance(actor=_actor("maria"), warehouse=floor.main, start=DAY), "ana")

    assert (ana.lines, ana.refused_scans, ana.refused_by_reason, ana.accuracy_percent) == (2, 1, {error: 1}, accuracy)


def test_another_pickers_refusal_on_the_task_does_not_count_against_the_confirming_picker(
    django_capture_on_commit_callbacks,
):
    floor = make_floor(django_capture_on_commit_callbacks)
    task = floor.tasks[0]
    scan(task, "ben", local(DAY, "08:00:00"), "location", error="wrong_location")
    pick(task, "ana", DAY, [("09:00:00", "location"), ("09:00:30", "tote")], units=2)

    result = performance.picking_performance(actor=_actor("maria"), warehouse=floor.main, start=DAY)

    assert (_row(result, "ana").lines, _row(result, "ana").accuracy_percent) == (1, 100.0)
    assert (_row(result, "ben").lines, _row(result, "ben").refused_scans, _row(result, "ben").accuracy_percent) == (
        0,
        1,
        None,
    )


def test_warehouse_totals_add_up_every_associate(floor):
    totals = performance.picking_performance(actor=_actor("maria"), warehouse=floor.main, start=DAY).totals

    assert (totals.lines, totals.units, totals.short_lines, totals.accurate_lines) == (6, 11, 1, 4)
    assert totals.active_seconds == 540 + 160 + 20
    assert totals.refused_by_reason == {"wrong_location": 1, "wrong_product": 1, "invalid_scan": 1}
    assert (totals.lines_per_hour, totals.units_per_hour, totals.accuracy_percent) == (30.0, 55.0, 66.7)


def test_the_day_is_the_warehouses_local_day(floor):
    # cy picked t6 at 23:30 Toronto time (04:30 UTC on the 16th) and t7 at 00:10 on the 16th.
    assert PickTask.objects.get(pk=floor.tasks[5].pk).picked_at.astimezone(ZoneInfo("UTC")).day == 16
    on_the_15th = performance.picking_performance(actor=_actor("maria"), warehouse=floor.main, start=DAY)
    on_the_16th = performance.picking_performance(actor=_actor("maria"), warehouse=floor.main, start=date(2026, 1, 16))

    cy = _row(on_the_15th, "cy")
    assert (cy.lines, cy.units, cy.scans, cy.active_seconds) == (1, 2, 2, 20)
    assert [(r.associate, r.lines, r.scans) for r in on_the_16th.rows] == [("cy", 1, 2)]
    assert on_the_15th.period_start == datetime(2026, 1, 15, 5, tzinfo=ZoneInfo("UTC"))
    assert on_the_15th.period_end == datetime(2026, 1, 16, 5, tzinfo=ZoneInfo("UTC"))


def test_a_confirmation_just_before_midnight_counts_on_its_day_though_its_scan_is_logged_after(
    django_capture_on_commit_callbacks,
):
    floor = make_floor(django_capture_on_commit_callbacks)
    task = floor.tasks[0]
    scan(task, "ana", local(date(2026, 1, 16), "00:00:01"), "tote")
    confirm(task, "ana", local(DAY, "23:59:59"), units=2)

    on_the_15th = performance.picking_performance(actor=_actor("maria"), warehouse=floor.main, start=DAY)
    on_the_16th = performance.picking_performance(actor=_actor("maria"), warehouse=floor.main, start=date(2026, 1, 16))

    assert [(r.associate, r.lines, r.scans) for r in on_the_15th.rows] == [("ana", 1, 0)]
    assert [(r.associate, r.lines, r.scans) for r in on_the_16th.rows] == [("ana", 0, 1)]


def test_a_date_range_adds_up_its_days(floor):
    result = performance.picking_performance(
        actor=_actor("maria"), warehouse=floor.main, start=DAY, end=date(2026, 1, 16)
    )

    cy = _row(result, "cy")
    # The two picks are 40 minutes apart: one capped gap joins them.
    assert (cy.lines, cy.units, cy.scans, cy.active_seconds) == (2, 4, 4, 20 + 300 + 30)
    assert result.totals.lines == 7


def test_an_associate_of_another_warehouse_is_not_shown(floor):
    main = performance.picking_performance(actor=_actor("maria"), warehouse=floor.main, start=DAY)
    east = performance.picking_performance(actor=_actor("erik"), warehouse=floor.east, start=DAY)

    assert "eve" not in [r.associate for r in main.rows]
    assert [(r.associate, r.lines, r.units, r.active_seconds) for r in east.rows] == [("eve", 1, 2, 30)]


def test_a_warehouse_the_actor_does_not_work_in_gives_nothing(floor):
    result = performance.picking_performance(actor=_actor("erik"), warehouse=floor.main, start=DAY)

    assert (result.rows, result.totals.lines, result.totals.scans, result.hours) == ([], 0, 0, [])


def test_an_associate_sees_only_their_own_row_and_the_warehouse_totals(floor):
    result = performance.picking_performance(actor=_actor("ben"), warehouse=floor.main, start=DAY)

    assert [(r.associate, r.lines) for r in result.rows] == [("ben", 2)]
    assert result.totals.lines == 6


def test_lines_per_local_hour(floor):
    hours = performance.picking_performance(actor=_actor("maria"), warehouse=floor.main, start=DAY).hours

    assert [(h.hour, h.lines, h.units, h.associates) for h in hours] == [
        (9, 2, 4, 1),
        (10, 2, 4, 1),
        (12, 1, 1, 1),
        (23, 1, 2, 1),
    ]


def test_an_open_task_with_scans_is_not_a_line(floor):
    open_task = floor.tasks[6]
    PickTask.objects.filter(pk=open_task.pk).update(status=TaskStatus.OPEN, picked_by="", picked_at=None)

    result = performance.picking_performance(actor=_actor("maria"), warehouse=floor.main, start=date(2026, 1, 16))

    assert [(r.associate, r.lines, r.scans) for r in result.rows] == [("cy", 0, 2)]
    assert result.rows[0].lines_per_hour == 0.0


def test_one_scan_alone_is_no_active_time_and_no_rate(django_capture_on_commit_callbacks):
    floor = make_floor(django_capture_on_commit_callbacks)
    pick(floor.tasks[0], "ana", DAY, [("09:00:00", "tote")], units=2)

    ana = _row(performance.picking_performance(actor=_actor("maria"), warehouse=floor.main, start=DAY), "ana")

    assert (ana.lines, ana.active_seconds, ana.lines_per_hour, ana.units_per_hour) == (1, 0, None, None)


def test_a_period_ending_before_it_starts_is_refused(floor):
    with pytest.raises(ValueError, match="ends before it starts"):
        performance.picking_performance(actor=_actor("maria"), warehouse=floor.main, start=DAY, end=date(2026, 1, 14))


def test_the_figures_take_a_fixed_number_of_queries(floor, django_assert_num_queries):
    actor = _actor("maria")

    # Confirmed lines, lines with a refusal, scan activity, refusals by reason, lines per hour.
    with django_assert_num_queries(5):
        performance.picking_performance(actor=actor, warehouse=floor.main, start=DAY)


def test_today_covers_each_warehouse_on_its_own_local_date(floor, django_assert_num_queries):
    # 09:30 UTC on the 15th: 04:30 in Toronto and 10:30 in Paris, both the 15th.
    now = datetime(2026, 1, 15, 9, 30, tzinfo=ZoneInfo("UTC"))
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pass-word-123")

    with django_assert_num_queries(3):
        rows = performance.picking_today(actor=actor_for_user(admin), warehouses=[floor.east, floor.main], now=now)

    assert [(r.warehouse_code, r.associate, r.lines) for r in rows] == [
        ("EAST", "eve", 1),
        ("MAIN", "ana", 3),
        ("MAIN", "ben", 2),
        ("MAIN", "cy", 1),
    ]
    # 23:30 UTC on the 15th is already the 16th in Paris: eve's pick is yesterday's.
    later = datetime(2026, 1, 15, 23, 30, tzinfo=ZoneInfo("UTC"))
    rows = performance.picking_today(actor=actor_for_user(admin), warehouses=[floor.east, floor.main], now=later)
    assert [(r.warehouse_code, r.associate) for r in rows] == [("MAIN", "ana"), ("MAIN", "ben"), ("MAIN", "cy")]


# -- the page ----------------------------------------------------------------------------------


def _table_rows(html: str, table_id: str) -> list[list[str]]:
    table = re.search(rf'<table[^>]*id="{table_id}"[^>]*>(.*?)</table>', html, re.S).group(1)
    body = re.search(r"<tbody>(.*?)</tbody>", table, re.S).group(1)
    return [
        [
            re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)
        ]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]


def _login(client, username: str):
    client.force_login(get_user_model().objects.get(username=username))
    return client


def test_anonymous_user_is_sent_to_login(client, floor):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/picking/performance/"


def test_merchant_user_is_refused(client, floor):
    merchant = tenancy.merchant_user_create(tenant=TenantFactory(), username="shop-owner", password="pass-word-123")
    client.force_login(merchant)

    response = client.get(f"{URL}?date=2026-01-15&warehouse=MAIN")

    assert response.status_code == 403
    assert "ana" not in response.content.decode()


def test_manager_page_shows_every_associate_and_the_hours(client, floor):
    response = _login(client, "maria").get(f"{URL}?date=2026-01-15&warehouse=MAIN")

    html = response.content.decode()
    assert response.status_code == 200
    assert _table_rows(html, "associates") == [
        ["ana", "3", "5", "1", "0 h 09 min", "20.0", "33.3", "66.7 %", "1", "wrong_location 1"],
        ["ben", "2", "4", "0", "0 h 03 min", "45.0", "90.0", "50.0 %", "2", "invalid_scan 1 wrong_product 1"],
        ["cy", "1", "2", "0", "0 h 00 min", "180.0", "360.0", "100.0 %", "0", "–"],
    ]
    assert _table_rows(html, "hours")[:2] == [["09:00", "2", "4", "1", ""], ["10:00", "2", "4", "1", ""]]
    assert [row[0] for row in _table_rows(html, "hours")] == [f"{h:02d}:00" for h in range(9, 24)]
    assert 'href="?date=2026-01-14&amp;warehouse=MAIN"' in html
    assert 'href="?date=2026-01-16&amp;warehouse=MAIN"' in html
    assert 'class="table-wrap"' in html
    assert "Idle gaps longer than 5 minutes count as 5 minutes" in html


def test_page_totals_row_covers_the_warehouse(client, floor):
    html = _login(client, "maria").get(f"{URL}?date=2026-01-15&warehouse=MAIN").content.decode()

    foot = re.search(r"<tfoot>(.*?)</tfoot>", html, re.S).group(1)
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", foot, re.S)]
    assert cells[:9] == ["All associates", "6", "11", "1", "0 h 12 min", "30.0", "55.0", "66.7 %", "3"]


def test_associate_page_shows_only_their_own_row(client, floor):
    html = _login(client, "ben").get(f"{URL}?date=2026-01-15&warehouse=MAIN").content.decode()

    assert [row[0] for row in _table_rows(html, "associates")] == ["ben"]
    assert ">ana<" not in html


def test_a_warehouse_the_user_does_not_work_in_is_404(client, floor):
    response = _login(client, "erik").get(f"{URL}?date=2026-01-15&warehouse=MAIN")

    assert response.status_code == 404


def test_the_default_is_today_in_the_users_first_warehouse(client, floor):
    response = _login(client, "erik").get(URL)

    today = performance.local_today(floor.east)
    assert response.status_code == 200
    assert response.context["performance"].warehouse.code == "EAST"
    assert response.context["performance"].start == today
    # No next day after today.
    assert 'rel="next"' not in response.content.decode()


def test_a_bad_date_is_a_clear_400(client, floor):
    response = _login(client, "maria").get(f"{URL}?date=2026-13-01&warehouse=MAIN")

    assert response.status_code == 400
    assert "Enter a valid date" in response.content.decode()


def test_a_range_of_days_is_shown_with_links_by_the_same_span(client, floor):
    html = _login(client, "maria").get(f"{URL}?date=2026-01-15&until=2026-01-16&warehouse=MAIN").content.decode()

    assert [row[:2] for row in _table_rows(html, "associates")] == [["ana", "3"], ["ben", "2"], ["cy", "2"]]
    assert 'href="?date=2026-01-13&amp;until=2026-01-14&amp;warehouse=MAIN"' in html
    assert 'href="?date=2026-01-17&amp;until=2026-01-18&amp;warehouse=MAIN"' in html


def test_a_range_longer_than_a_week_is_refused(client, floor):
    response = _login(client, "maria").get(f"{URL}?date=2026-01-01&until=2026-01-08&warehouse=MAIN")

    assert response.status_code == 400
    assert "Choose at most 7 days." in response.content.decode()


def test_a_range_ending_before_it_starts_is_refused(client, floor):
    response = _login(client, "maria").get(f"{URL}?date=2026-01-15&until=2026-01-14&warehouse=MAIN")

    assert response.status_code == 400
    assert "The period ends before it starts" in response.content.decode()


def test_staff_without_a_warehouse_see_an_empty_page(client, floor):
    staff_with_token(username="newbie", role="manager")

    response = _login(client, "newbie").get(URL)

    assert response.status_code == 200
    assert "No warehouse is assigned to you" in response.content.decode()


def test_the_page_takes_a_fixed_number_of_queries(client, floor, django_assert_num_queries):
    client = _login(client, "maria")

    # Session, user, staff profile, the user's warehouses, then the five figure queries.
    with django_assert_num_queries(9):
        assert client.get(f"{URL}?date=2026-01-15&warehouse=MAIN").status_code == 200


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium at /usr/bin/chromium")
def test_page_fits_360px_and_its_tables_scroll_inside_their_card(live_server, page, django_capture_on_commit_callbacks):
    floor = make_floor(django_capture_on_commit_callbacks)
    picking_day(floor)
    login(page, live_server.url, "maria")

    page.goto(f"{live_server.url}{URL}?date=2026-01-15&warehouse=MAIN")

    assert page.text_content('#associates tr[data-associate="ana"] td:nth-child(8)').strip() == "66.7 %"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    wrap = page.locator("#associates").locator("xpath=..")
    assert wrap.evaluate("el => el.scrollWidth > el.clientWidth")
    with page.expect_navigation():
        page.click('a[rel="prev"]')
    assert page.url.endswith("?date=2026-01-14&warehouse=MAIN")
    assert page.is_visible("#no-picks")


@pytest.mark.parametrize(
    "query",
    ["date=9999-12-31", "date=0001-01-01", "date=1999-12-31", "date=2100-01-01", "date=2099-12-28&until=9999-12-31"],
)
def test_a_day_outside_the_calendar_the_page_knows_is_a_clear_400(client, floor, query):
    response = _login(client, "maria").get(f"{URL}?{query}&warehouse=MAIN")

    assert response.status_code == 400
    assert "Choose a day from 2000-01-01 to 2099-12-31." in response.content.decode()
    assert "performance" not in response.context


def test_the_first_day_the_page_knows_has_no_link_to_the_day_before(client, floor):
    response = _login(client, "maria").get(f"{URL}?date=2000-01-01&warehouse=MAIN")

    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["performance"].start == date(2000, 1, 1)
    assert 'rel="prev"' not in html
    assert 'rel="next"' in html
