import pytest

from dashboard import selectors
from fulfillment.tenancy.actor import Actor
from fulfillment.tenancy.authentication import actor_for_user
from fulfillment.tenancy.tests.factories import staff_with_token
from orders.models import Status

pytestmark = pytest.mark.django_db

ZERO = dict.fromkeys(Status.values, 0)


def test_counts_are_exact_for_every_status_in_the_assigned_warehouse(floor):
    user, _ = staff_with_token(username="maria", role="manager", warehouse=floor.main)

    counts = selectors.order_counts_by_status(actor=actor_for_user(user))

    assert counts == {
        **ZERO,
        "on_hold": 1,
        "backordered": 1,
        "allocated": 2,
        "picking": 1,
        "cancelled": 1,
    }
    assert list(counts) == Status.values


def test_counts_take_one_query(floor, django_assert_num_queries):
    user, _ = staff_with_token(username="maria", role="manager", warehouse=floor.main)
    actor = actor_for_user(user)

    with django_assert_num_queries(1):
        selectors.order_counts_by_status(actor=actor)


def test_counts_of_an_operator_admin_cover_every_warehouse(floor, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "pass-word-123")

    counts = selectors.order_counts_by_status(actor=actor_for_user(admin))

    assert counts == {
        **ZERO,
        "received": 1,
        "on_hold": 1,
        "backordered": 1,
        "allocated": 2,
        "picking": 1,
        "cancelled": 1,
    }


def test_an_associate_counts_only_the_orders_of_their_warehouse(floor):
    user, _ = staff_with_token(username="sam", role="associate", warehouse=floor.east)

    assert selectors.order_counts_by_status(actor=actor_for_user(user)) == {**ZERO, "received": 1}


def test_staff_in_two_warehouses_count_each_order_once(floor):
    user, _ = staff_with_token(username="maria", role="manager", warehouse=floor.main)
    floor.east.staff.add(user)

    counts = selectors.order_counts_by_status(actor=actor_for_user(user))

    assert sum(counts.values()) == 7
    assert counts["received"] == 1


def test_staff_without_a_warehouse_see_only_zeros(floor):
    user, _ = staff_with_token(username="new", role="manager")

    assert selectors.order_counts_by_status(actor=actor_for_user(user)) == ZERO
    assert selectors.recent_orders(actor=actor_for_user(user), limit=20) == []


def test_no_actor_sees_nothing(floor):
    assert selectors.order_counts_by_status(actor=None) == ZERO
    assert selectors.recent_orders(actor=None, limit=20) == []


def test_a_merchant_actor_counts_only_its_own_orders(floor):
    actor = Actor(kind="merchant", tenant_id=floor.globex.pk)

    assert selectors.order_counts_by_status(actor=actor) == {**ZERO, "received": 1, "allocated": 1}


def test_recent_orders_are_the_newest_first_and_limited(floor):
    user, _ = staff_with_token(username="maria", role="manager", warehouse=floor.main)

    recent = selectors.recent_orders(actor=actor_for_user(user), limit=3)

    made = floor.by_name
    assert [o.number for o in recent] == [made["cancelled"].number, made["on_hold"].number, made["backordered"].number]


def test_recent_orders_exclude_unassigned_warehouses(floor):
    user, _ = staff_with_token(username="sam", role="associate", warehouse=floor.east)

    recent = selectors.recent_orders(actor=actor_for_user(user), limit=20)

    assert [o.number for o in recent] == [floor.by_name["east_received"].number]


def test_recent_orders_load_their_tenant_in_the_same_query(floor, django_assert_num_queries):
    user, _ = staff_with_token(username="maria", role="manager", warehouse=floor.main)
    actor = actor_for_user(user)

    with django_assert_num_queries(1):
        names = [o.tenant.name for o in selectors.recent_orders(actor=actor, limit=20)]

    assert sorted(set(names)) == ["Acme Goods", "Globex Supply"]


def test_assigned_warehouse_codes_name_the_staff_warehouses(floor, django_user_model):
    user, _ = staff_with_token(username="maria", role="manager", warehouse=floor.east)
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "pass-word-123")

    assert selectors.assigned_warehouse_codes(actor=actor_for_user(user)) == ["EAST"]
    assert selectors.assigned_warehouse_codes(actor=actor_for_user(admin)) == ["EAST", "MAIN"]
