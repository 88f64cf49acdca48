import itertools
import random
from unittest import mock

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import picking.batching as batching
from picking.batching import BatchOrder, Cart, batch, clarke_wright, fcfs, lengths, total_length
from picking.batching.lengths import Sweep
from picking.batching.problem import Problem
from picking.batching.savings import _Bounds, merge
from picking.geometry import Layout, Stop
from picking.routing import optimal_length
from picking.tests.strategies import layouts
from tests.threads import run_together


def skewed_orders(n, seed, *, bays=30, volumes=False):
    """1-4 lines, most orders 1-2; most lines in aisles 1-2, few beyond aisle 5."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        lines = rng.choices((1, 2, 3, 4), (50, 30, 12, 8))[0]
        stops = tuple(
            Stop(rng.choices(range(1, 11), (35, 35, 7, 7, 6, 2, 2, 2, 2, 2))[0], rng.randint(1, bays))
            for _ in range(lines)
        )
        volume = round(rng.uniform(1, 30), 1) if volumes else 0.0
        out.append(BatchOrder(key=i, stops=stops, lines=lines, volume_l=volume))
    return out


def keys(batches):
    return [[o.key for o in b] for b in batches]


def assert_valid(batches, orders, cart):
    placed = sorted(o.key for b in batches for o in b)
    assert placed == sorted(o.key for o in orders)
    for b in batches:
        assert cart.fits(b) or (len(b) == 1 and not cart.fits(b))


# -- exact route lengths of many batches at once -------------------------------------------------


@st.composite
def layouts_and_stop_sets(draw, *, bays=None, min_stops=0, min_sets=1):
    """(layout, aisles, 1 to 6 sets of ``min_stops`` to 10 stops); ``bays`` default: 2 to 40 or 65 to 90
    (past 64 bays a block falls back)."""
    layout, aisles = draw(
        layouts(bays=bays if bays is not None else st.one_of(st.integers(2, 40), st.integers(65, 90)))
    )
    position = st.tuples(st.integers(1, aisles), st.integers(1, layout.bays))
    sets = draw(st.lists(st.lists(position, min_size=min_stops, max_size=10), min_size=min_sets, max_size=6))
    return layout, aisles, [[Stop(a, b) for a, b in s] for s in sets]


@settings(max_examples=300, deadline=None)
@given(layouts_and_stop_sets())
def test_route_lengths_in_bulk_equal_routing_optimal_length(case):
    layout, aisles, stop_sets = case
    sweep = Sweep(layout, max([aisles, layout.depot_aisle]))
    lengths = sweep.lengths(sweep.masks(stop_sets))
    assert lengths.tolist() == pytest.approx([optimal_length(s, layout) for s in stop_sets], abs=1e-9)


def test_threads_computing_lengths_at_once_in_a_fresh_process_all_get_the_optimum(monkeypatch):
    # Given a process that has not built its bit tables or compiled this layout yet (a new
    # worker), and eight threads released at the same moment.
    monkeypatch.setattr(lengths, "_BIT_TABLES", None)
    monkeypatch.setattr(lengths, "_PROGRAMS", {})
    layout = Layout(bays=30, cross_aisles=(15,))
    rng = random.Random(11)
    stop_sets = [[Stop(rng.randint(1, 10), rng.randint(1, 30)) for _ in range(rng.randint(1, 12))] for _ in range(40)]
    expected = [optimal_length(s, layout) for s in stop_sets]
    results: list[list[float]] = []

    def work():
        sweep = Sweep(layout, 10)
        results.append(sweep.lengths(sweep.masks(stop_sets)).tolist())

    # When they all compute route lengths at once.
    errors = run_together([work] * 8)
    # Then none fails, all agree with routing, and the tables are whole and published once.
    assert errors == []
    assert len(results) == 8
    for found in results:
        assert found == pytest.approx(expected, abs=1e-9)
    assert len(lengths.bit_tables()) == 3
    assert list(lengths._PROGRAMS) == [(layout, 10)]
    # And a later call still works.
    sweep = Sweep(layout, 10)
    assert sweep.lengths(sweep.masks(stop_sets)).tolist() == pytest.approx(expected, abs=1e-9)


def test_a_stop_outside_the_layout_is_refused():
    orders = [BatchOrder("a", (Stop(1, 31),))]
    with pytest.raises(ValueError, match="outside the layout"):
        batch(orders, Cart(), Layout(bays=30))
    with pytest.raises(ValueError, match="outside the layout"):
        clarke_wright(orders, Cart(), Layout(bays=30))


# -- Clarke-Wright savings ------------------------------------------------------------------------


def every_pair_clarke_wright(problem, count):
    """C&W(ii) as published: every saving of every live pair, recomputed after each merge; ties to
    the lower ids, merged batches numbered on from ``count``."""
    members = {i: [i] for i in range(count)}
    masks = {i: problem.masks[i] for i in range(count)}
    length = {i: float(problem.lengths(problem.masks[[i]], cache=False)[0]) for i in range(count)}
    new = count
    while True:
        best = None
        for a, b in itertools.combinations(sorted(members), 2):
            if not problem.fits_exactly(members[a] + members[b]):
                continue
            union = float(problem.lengths((masks[a] | masks[b])[None], cache=False)[0])
            key = (-(length[a] + length[b] - union), a, b)
            if best is None or key < best[0]:
                best = (key, union)
        if best is None:
            return sorted(sorted(m) for m in members.values())
        (_, a, b), union = best
        members[new] = members.pop(a) + members.pop(b)
        masks[new] = masks.pop(a) | masks.pop(b)
        length[new] = union
        del length[a], length[b]
        new += 1


@settings(max_examples=200, deadline=None)
@given(layouts_and_stop_sets(bays=st.integers(2, 64), min_stops=1, min_sets=2))
def test_the_bound_on_a_saving_is_never_below_the_saving(case):
    layout, _aisles, stop_sets = case
    orders = [BatchOrder(i, tuple(s)) for i, s in enumerate(stop_sets) if s]
    assume(len(orders) >= 2 and layout.bays <= 64)
    problem = Problem(orders, Cart(totes=99), layout)
    bounds = _Bounds(problem, len(orders))
    bounds.set(np.arange(len(orders)), problem.masks)
    a, b = (x.astype(np.int64) for x in np.triu_indices(len(orders), k=1))
    exact = (
        problem.lengths_of_orders[a]
        + problem.lengths_of_orders[b]
        - problem.lengths(problem.masks[a] | problem.masks[b])
    )
    assert (bounds.upper(a, b, problem.lengths_of_orders) >= exact).all()
    single = _Bounds(problem, len(orders))
    for i in range(len(orders)):
        single.set_one(i, problem.masks[i])
    assert single.upper(a, b, problem.lengths_of_orders).tolist() == pytest.approx(
        bounds.upper(a, b, problem.lengths_of_orders).tolist()
    )


@settings(max_examples=40, deadline=None)
@given(
    st.integers(0, 10_000),
    st.integers(2, 18),
    st.sampled_from([Cart(totes=3), Cart(totes=4, volume_l=40.0), Cart(totes=5, lines=6)]),
    st.sampled_from([Layout(bays=20), Layout(bays=20, cross_aisles=(8,), depot_aisle=3)]),
)
def test_lazy_savings_merge_exactly_as_computing_every_saving_first(seed, n, cart, layout):
    # Popular positions repeat, so that equal savings (ties) are common.
    rng = random.Random(seed)
    spots = [Stop(rng.randint(1, 6), rng.randint(1, 20)) for _ in range(8)]
    orders = [
        BatchOrder(
            i,
            tuple(
                rng.choice(spots) if rng.random() < 0.6 else Stop(rng.randint(1, 6), rng.randint(1, 20))
                for _ in range(rng.randint(1, 3))
            ),
            totes=rng.choice((1, 1, 2)),
            volume_l=round(rng.uniform(1, 25), 1),
            lines=rng.randint(1, 3),
        )
        for i in range(n)
    ]
    problem = Problem(orders, cart, layout)
    lazy = sorted(sorted(b) for b in merge(problem, [[i] for i in range(n)]))
    assert lazy == every_pair_clarke_wright(Problem(orders, cart, layout), n)


# -- capacity and placement ----------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(
    st.integers(0, 10_000),
    st.integers(1, 40),
    st.sampled_from([Cart(totes=3), Cart(totes=4, volume_l=40.0), Cart(totes=8, volume_l=60.0, lines=6)]),
)
def test_every_order_lands_in_exactly_one_batch_within_the_cart(seed, n, cart):
    rng = random.Random(seed)
    orders = [
        BatchOrder(
            key=i,
            stops=tuple(Stop(rng.randint(1, 6), rng.randint(1, 20)) for _ in range(rng.randint(0, 4))),
            totes=rng.choice((1, 1, 1, 2)),
            volume_l=round(rng.uniform(0.5, 35), 2),
            lines=rng.randint(1, 4),
        )
        for i in range(n)
    ]
    layout = Layout(bays=20, cross_aisles=(10,) if seed % 2 else ())
    # Seeds divisible by three take the path of large inputs: savings between near neighbours.
    with mock.patch.object(batching, "_EVERY_PAIR", 5 if seed % 3 == 0 else batching._EVERY_PAIR):
        ours = batch(orders, cart, layout, time_budget_s=None, effort_s=0.05)
    for batches in (ours, clarke_wright(orders, cart, layout), fcfs(orders, cart)):
        assert_valid(batches, orders, cart)


@pytest.mark.parametrize(
    "layout",
    [Layout(bays=70), Layout(bays=40, cross_aisles=(10, 20, 30))],
    ids=["blocks deeper than 64 bays", "four blocks"],
)
def test_deep_aisles_and_many_blocks_batch_within_the_cart_without_the_fast_lengths(layout):
    rng = random.Random(5)
    orders = [
        BatchOrder(i, tuple(Stop(rng.randint(1, 6), rng.randint(1, layout.bays)) for _ in range(rng.randint(1, 3))))
        for i in range(14)
    ]
    cart = Cart(totes=4)
    batches = batch(orders, cart, layout, time_budget_s=None, effort_s=0.1)
    assert_valid(batches, orders, cart)
    assert total_length(batches, layout) <= total_length(fcfs(orders, cart), layout)


def test_an_order_too_big_for_the_cart_gets_a_batch_of_its_own():
    cart = Cart(totes=4, volume_l=50.0, lines=5)
    orders = [
        BatchOrder("a", (Stop(1, 5),)),
        BatchOrder("totes", (Stop(1, 6),), totes=5),
        BatchOrder("b", (Stop(1, 7),)),
        BatchOrder("volume", (Stop(1, 8),), volume_l=50.5),
        BatchOrder("lines", (Stop(1, 9),), lines=6),
    ]
    for batches in (batch(orders, cart, Layout(bays=10), effort_s=0.05), clarke_wright(orders, cart, Layout(bays=10))):
        assert keys(batches) == [["a", "b"], ["totes"], ["volume"], ["lines"]]


def test_orders_without_stops_take_free_totes_and_walk_nothing():
    # a and b share a location (19 m together), c is deep in aisle 5 (43 m); carts of two.
    layout = Layout(bays=10)
    orders = [
        BatchOrder("a", (Stop(1, 10),)),
        BatchOrder("off grid", ()),
        BatchOrder("b", (Stop(1, 10),)),
        BatchOrder("c", (Stop(5, 10),)),
        BatchOrder("nowhere", ()),
    ]
    batches = batch(orders, Cart(totes=2), layout, effort_s=0.05)
    assert keys(batches) == [["a", "b"], ["off grid", "c"], ["nowhere"]]
    assert total_length(batches, layout) == 19 + 43


def test_only_orders_without_stops_make_batches_that_walk_nothing():
    batches = batch([BatchOrder(i, ()) for i in range(5)], Cart(totes=2), Layout(bays=10))
    assert keys(batches) == [[0, 1], [2, 3], [4]]


def test_no_orders_make_no_batches():
    assert batch([], Cart(), Layout(bays=10)) == []
    assert clarke_wright([], Cart(), Layout(bays=10)) == []


def test_a_time_budget_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        batch([BatchOrder("a", (Stop(1, 1),))], Cart(), Layout(bays=10), time_budget_s=0)


# -- quality --------------------------------------------------------------------------------------


def test_batching_pairs_the_orders_of_the_same_aisle_where_fcfs_does_not():
    # Bays of 1 m, aisles 3 m apart, depot at the front of aisle 1; carts of two orders.
    # Deep in aisle 1 alone: in and out, 2 x 9.5 = 19 m; deep in aisle 5 alone: 2 x 12 across
    # plus 19 = 43 m. One of each: up aisle 1, across the back, down aisle 5, back along the
    # front: 10 + 12 + 10 + 12 = 44 m. Arrival order alternates the aisles, so FCFS pairs unlike
    # orders (2 x 44); pairing like with like walks 19 + 43.
    layout = Layout(bays=10)
    orders = [
        BatchOrder("aisle 1, bay 10", (Stop(1, 10),)),
        BatchOrder("aisle 5, bay 10", (Stop(5, 10),)),
        BatchOrder("aisle 1, bay 9", (Stop(1, 9),)),
        BatchOrder("aisle 5, bay 9", (Stop(5, 9),)),
    ]
    cart = Cart(totes=2)
    first = fcfs(orders, cart)
    assert keys(first) == [["aisle 1, bay 10", "aisle 5, bay 10"], ["aisle 1, bay 9", "aisle 5, bay 9"]]
    assert total_length(first, layout) == 88
    for batches in (
        batch(orders, cart, layout, time_budget_s=None, effort_s=0.05),
        clarke_wright(orders, cart, layout),
    ):
        assert keys(batches) == [["aisle 1, bay 10", "aisle 1, bay 9"], ["aisle 5, bay 10", "aisle 5, bay 9"]]
        assert total_length(batches, layout) == 19 + 43


@pytest.mark.parametrize(
    ("layout", "cart", "orders", "expected"),
    [
        # (ours, Clarke-Wright, FCFS) in metres, measured.
        (Layout(bays=30), Cart(totes=8), skewed_orders(120, 1), (1304, 1329, 2523)),
        (Layout(bays=30, cross_aisles=(15,)), Cart(totes=8), skewed_orders(120, 2), (1158, 1201, 1897)),
        (
            Layout(bays=30),
            Cart(totes=6, volume_l=80.0, lines=10),
            skewed_orders(90, 3, volumes=True),
            (1583, 1597, 2732),
        ),
        (Layout(bays=20, depot_aisle=5), Cart(totes=5), skewed_orders(80, 4, bays=20), (1029, 1065, 1594)),
    ],
    ids=["one block", "two blocks", "volume and lines", "depot in aisle 5"],
)
def test_batching_is_shorter_than_clarke_wright_and_far_shorter_than_fcfs(layout, cart, orders, expected):
    ours = batch(orders, cart, layout, time_budget_s=None, effort_s=0.5)
    savings = clarke_wright(orders, cart, layout)
    assert_valid(ours, orders, cart)
    assert_valid(savings, orders, cart)
    lengths = (total_length(ours, layout), total_length(savings, layout), total_length(fcfs(orders, cart), layout))
    assert lengths == expected
    assert lengths[0] < lengths[1] < lengths[2]


def test_the_same_orders_give_the_same_batches():
    layout = Layout(bays=30, cross_aisles=(15,))
    orders = skewed_orders(150, 7)
    first = batch(orders, Cart(), layout, time_budget_s=None, effort_s=0.3)
    again = batch(list(orders), Cart(), layout, time_budget_s=None, effort_s=0.3)
    assert keys(first) == keys(again)
    assert keys(clarke_wright(orders, Cart(), layout)) == keys(clarke_wright(orders, Cart(), layout))


def test_a_clock_that_is_not_reached_changes_nothing():
    # The planner passes effort_s and a clock beyond it: a preview and a release of the same wave
    # must get the same carts whatever else the machine is doing.
    layout = Layout(bays=30)
    orders = skewed_orders(150, 8)
    unlimited = batch(orders, Cart(), layout, time_budget_s=None, effort_s=0.2)
    with_a_clock = batch(orders, Cart(), layout, effort_s=0.2, time_budget_s=20)
    assert keys(with_a_clock) == keys(unlimited)


def test_batches_come_in_the_order_of_their_first_order_and_keep_the_orders_order():
    batches = batch(skewed_orders(60, 9), Cart(), Layout(bays=30), time_budget_s=None, effort_s=0.2)
    firsts = [b[0].key for b in batches]
    assert firsts == sorted(firsts)
    assert all([o.key for o in b] == sorted(o.key for o in b) for b in batches)
