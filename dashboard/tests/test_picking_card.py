"""The dashboard's "Picking today" card: per associate, today's lines, lines/h, units/h and accuracy."""

import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.cache import cache

from dashboard import selectors
from fulfillment.tenancy.authentication import actor_for_user
from fulfillment.tenancy.tests.factories import staff_with_token
from inventory.tests import factories as inv
from picking.selectors_performance import local_today
from picking.tests.test_performance import _login, make_floor, pick, picking_day

pytestmark = pytest.mark.django_db

HOME = "/"
NOON_IN_TORONTO = datetime(2026, 6, 10, 16, 0, tzinfo=UTC)


@pytest.fixture
def picking_floor(django_capture_on_commit_callbacks):
    """The picking day of picking.tests.test_performance, happening today in MAIN (Toronto time).

    The clock stands at noon in Toronto (18:00 in Paris, the same date): "today" differs between
    the warehouses' time zones at some hours of the real day, which made the card's rows depend
    on when the suite ran.
    """
    with time_machine.travel(NOON_IN_TORONTO, tick=False):
        floor = make_floor(django_capture_on_commit_callbacks)
        picking_day(floor, day=local_today(floor.main))
        yield floor


def _card_rows(html: str) -> list[list[str]]:
    card = re.search(r'<section class="card picking" id="picking-today">(.*?)</section>', html, re.S).group(1)
    body = re.search(r"<tbody>(.*?)</tbody>", card, re.S).group(1)
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]


def test_card_shows_todays_rates_and_accuracy_per_associate(client, picking_floor):
    html = _login(client, "maria").get(HOME).content.decode()

    # ana: 3 lines, 5 units in 540 active seconds, one line with a wrong location; ben: 2 lines,
    # 4 units in 160 s, one with a wrong product; cy: 1 line of 2 units in 20 s (at 23:30).
    assert _card_rows(html) == [
        ["ana", "3", "20.0", "33.3", "66.7 %"],
        ["ben", "2", "45.0", "90.0", "50.0 %"],
        ["cy", "1", "180.0", "360.0", "100.0 %"],
    ]
    assert 'href="/picking/performance/?warehouse=MAIN"' in html
    assert "idle gaps count at most 5 minutes" in html


def test_card_leaves_out_the_associates_of_other_warehouses(client, picking_floor):
    html = _login(client, "erik").get(HOME).content.decode()

    # eve picked in EAST on the same calendar date, but in Paris time it may be another day: only
    # MAIN's associates are certainly absent.
    assert [row[0] for row in _card_rows(html)] in ([], ["eve"])
    assert 'data-associate="ana"' not in html


def test_an_associate_sees_only_their_own_row_on_the_card(client, picking_floor):
    html = _login(client, "ben").get(HOME).content.decode()

    assert _card_rows(html) == [["ben", "2", "45.0", "90.0", "50.0 %"]]
    assert "Your own figures." in html


def test_card_without_picks_today_says_so(client, picking_floor):
    staff_with_token(username="newbie", role="manager", warehouse=inv.warehouse("WEST", aisles=1, bays=2, levels=1))

    html = _login(client, "newbie").get(HOME).content.decode()

    assert "No picking yet today." in html


def test_card_names_the_warehouse_when_the_user_has_several(client, picking_floor):
    picking_floor.east.staff.add(get_user_model().objects.get(username="maria"))

    html = _login(client, "maria").get(HOME).content.decode()

    rows = [row for row in _card_rows(html) if row[1] == "MAIN"]
    assert [row[:3] for row in rows] == [["ana", "MAIN", "3"], ["ben", "MAIN", "2"], ["cy", "MAIN", "1"]]
    assert 'href="/picking/performance/?warehouse=EAST"' in html


def test_picking_card_selector_takes_three_queries(picking_floor, django_assert_num_queries):
    actor = actor_for_user(get_user_model().objects.get(username="maria"))
    warehouses = selectors.assigned_warehouses(actor=actor)

    with django_assert_num_queries(3):
        rows = selectors.picking_today(actor=actor, warehouses=warehouses)

    assert [(r.associate, r.lines, r.units, r.accurate_lines) for r in rows] == [
        ("ana", 3, 5, 2),
        ("ben", 2, 4, 1),
        ("cy", 1, 2, 1),
    ]


def test_dashboard_takes_ten_queries_with_the_picking_card(client, picking_floor, django_assert_num_queries):
    client = _login(client, "maria")

    # Session, user, staff profile; order counts, recent orders, stock alerts; the user's warehouses
    # (codes and time zones, once for the header and the card); the card's confirmed lines, lines
    # with a refused scan, and scan activity (then kept for a minute).
    with django_assert_num_queries(10):
        assert client.get(HOME).status_code == 200


def test_the_card_is_kept_for_a_minute(client, picking_floor, django_assert_num_queries):
    client = _login(client, "maria")
    first = client.get(HOME).content.decode()
    pick(picking_floor.tasks[6], "ana", local_today(picking_floor.main), [("15:00:00", "tote")], units=2)

    # The session, user, profile, counts, recent orders, alerts and warehouses: no picking query.
    with django_assert_num_queries(7):
        second = client.get(HOME).content.decode()
    cache.clear()
    third = client.get(HOME).content.decode()

    assert _card_rows(second) == _card_rows(first)
    assert _card_rows(third)[0][:2] == ["ana", "4"]


def test_card_offers_managers_to_plan_a_wave_and_associates_only_the_list(client, picking_floor):
    manager_html = _login(client, "maria").get(HOME).content.decode()
    assert 'href="/picking/waves/new/" id="plan-wave"' in manager_html
    client.logout()
    associate_html = _login(client, "ana").get(HOME).content.decode()
    assert 'href="/picking/waves/"' in associate_html
    assert 'id="plan-wave"' not in associate_html
