import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from picking import heuristics
from picking.geometry import Layout, Stop, route_length
from picking.heuristics import best_route, combined, improve, largest_gap, s_shape
from picking.routing import EXACT_MAX_BLOCKS, optimal_length, route
from picking.tests.strategies import layouts_and_stops

HEURISTICS = {"s_shape": s_shape, "largest_gap": largest_gap, "combined": combined}


def _keys(stops):
    return [s.key for s in stops]


def _same_positions_together(ordered):
    seen, previous = set(), None
    for stop in ordered:
        here = (stop.aisle, stop.bay)
        if here != previous and here in seen:
            return False
        seen.add(here)
        previous = here
    return True


def _check_walk(points, ordered, length, layout):
    """The corners form a walk along aisles and cross aisles from and back to the depot, as long as
    `length`, that first passes the stops' positions in the order given."""
    assert points[0] == points[-1] == (layout.depot_aisle, 0.0)
    todo = {(s.aisle, layout.y(s.bay)) for s in ordered}
    passed, walked = [], 0.0
    for (a1, y1), (a2, y2) in zip(points, points[1:], strict=False):
        if a1 == a2:  # up or down an aisle
            walked += abs(y2 - y1)
            here = sorted((y for a, y in todo if a == a1 and min(y1, y2) <= y <= max(y1, y2)), reverse=y2 < y1)
            for y in here:
                passed.append((a1, y))
                todo.discard((a1, y))
        else:  # along a cross aisle
            assert y1 == y2 and y1 in layout.lines
            walked += abs(a2 - a1) * layout.aisle_pitch_m
    assert not todo
    first_visits = list(dict.fromkeys((s.aisle, layout.y(s.bay)) for s in ordered))
    assert passed == first_visits
    assert walked == pytest.approx(length, abs=1e-9)


# -- hand-checked cases ----------------------------------------------------------------------


def test_s_shape_on_one_block_walks_odd_aisles_up_and_even_aisles_down():
    # aisles 1 and 2 walked through (10 m each), aisle 3 in and out to bay 4 (2 x 3.5 m), 2 x 6 m across
    stops = [Stop(1, 5, "a"), Stop(2, 2, "b"), Stop(2, 8, "c"), Stop(3, 4, "d")]
    ordered, length = s_shape(stops, Layout(bays=10))
    assert _keys(ordered) == ["a", "c", "b", "d"]
    assert length == 10 + 10 + 7 + 12


# Two blocks of 10 m (a middle cross aisle after bay 10, at 10 m), 3 m pitch, depot at aisle 1. One pick
# just behind the middle cross aisle (bay 11, 10.5 m) in each of aisles 1-4.
TWO_BLOCKS = Layout(bays=20, cross_aisles=(10,))
BEHIND_THE_MIDDLE = [Stop(aisle, 11, f"a{aisle}") for aisle in (1, 2, 3, 4)]


def test_s_shape_on_two_blocks_walks_every_sub_aisle_of_the_back_block_through():
    # Up aisle 1 to the middle (10), the back block's four sub-aisles through (4 x 10) moving 9 m across,
    # back down aisle 4 through the empty front block (10), along the front to the depot (9): 78 m.
    ordered, length = s_shape(BEHIND_THE_MIDDLE, TWO_BLOCKS)
    assert _keys(ordered) == ["a1", "a2", "a3", "a4"]
    assert length == pytest.approx(10 + 40 + 9 + 10 + 9)


def test_largest_gap_on_two_blocks_walks_only_the_end_sub_aisles_through():
    # Up aisle 1 to the middle (10) and through the back block (10), along the back (9), down aisle 4
    # (10); back along the middle 3 m at a time to aisles 3 and 2, 1 m in and out of each (2 x 4),
    # down aisle 2 through the front block (10), along the front to the depot (3): 60 m, against 78.
    ordered, length = largest_gap(BEHIND_THE_MIDDLE, TWO_BLOCKS)
    assert _keys(ordered) == ["a1", "a4", "a3", "a2"]
    assert length == pytest.approx(10 + 10 + 9 + 10 + 8 + 10 + 3)
    assert length < s_shape(BEHIND_THE_MIDDLE, TWO_BLOCKS)[1]


def test_combined_on_two_blocks_enters_each_sub_aisle_from_the_middle_and_is_optimal():
    # Up aisle 1 to the middle (10), along it to aisle 4 (9) with 1 m in and out of each sub-aisle (4),
    # down aisle 4 (10), along the front to the depot (9): 42 m, which is the optimum.
    ordered, length = combined(BEHIND_THE_MIDDLE, TWO_BLOCKS)
    assert _keys(ordered) == ["a1", "a2", "a3", "a4"]
    assert length == pytest.approx(10 + 9 + 4 + 10 + 9)
    assert optimal_length(BEHIND_THE_MIDDLE, TWO_BLOCKS) == pytest.approx(length)


def test_s_shape_starts_from_the_end_of_the_picks_nearer_a_depot_in_the_middle():
    # Depot at aisle 5, picks in aisles 1, 6 and 7 (one block of 10 m): aisle 7 is nearer (6 m) than
    # aisle 1 (12 m), so: to aisle 7 (6), up it (10), along the back to 6 (3), down (10), along the front
    # to aisle 1 (15), in and out to bay 3 (2 x 2.5), back to the depot (12): 61 m.
    stops = [Stop(1, 3, "a"), Stop(6, 3, "b"), Stop(7, 9, "c")]
    ordered, length = s_shape(stops, Layout(bays=10, depot_aisle=5))
    assert _keys(ordered) == ["c", "b", "a"]
    assert length == pytest.approx(6 + 10 + 3 + 10 + 15 + 5 + 12)


def test_largest_gap_enters_a_middle_aisle_from_both_ends():
    # One block of 20 m, depot at aisle 1. Aisle 2 has picks at bays 1 and 20: its largest gap is the
    # middle, so 1 m in from the back and 1 m in from the front. Up aisle 1 (20), along the back (6),
    # down aisle 3 (20), along the front (6), plus the two spurs (2 x 1): 54 m.
    stops = [Stop(1, 10, "a"), Stop(2, 1, "b"), Stop(2, 20, "c"), Stop(3, 10, "d")]
    ordered, length = largest_gap(stops, Layout(bays=20))
    assert _keys(ordered) == ["a", "c", "d", "b"]
    assert length == pytest.approx(54)


def test_improve_untangles_a_zigzag_in_one_aisle():
    # In order the stops at bays 1, 9, 2, 8 cost 0.5 + 8 + 7 + 6 + 7.5 = 29 m; up to bay 9 and back is 17 m
    # (whichever stops are picked on the way up and which on the way down).
    stops = [Stop(1, 1, "a"), Stop(1, 9, "b"), Stop(1, 2, "c"), Stop(1, 8, "d")]
    layout = Layout(bays=10)
    assert route_length(stops, layout) == pytest.approx(29)
    ordered, length = improve(stops, layout)
    assert length == pytest.approx(17)
    assert sorted(_keys(ordered)) == ["a", "b", "c", "d"]
    assert route_length(ordered, layout) == pytest.approx(17)


def test_improve_puts_stops_at_one_position_together_where_it_is_first_visited():
    stops = [Stop(2, 3, "x"), Stop(1, 1, "y"), Stop(2, 3, "z")]
    ordered, _length = improve(stops, Layout(bays=5))
    keys = _keys(ordered)
    assert sorted(keys) == ["x", "y", "z"]
    assert abs(keys.index("x") - keys.index("z")) == 1


@pytest.mark.parametrize("function", [s_shape, largest_gap, combined, best_route, improve])
def test_no_stops_is_an_empty_route(function):
    assert function([], Layout(bays=10, cross_aisles=(5,))) == ([], 0.0)


@pytest.mark.parametrize("function", [s_shape, largest_gap, combined, best_route, improve])
@pytest.mark.parametrize("stop", [Stop(0, 1), Stop(1, 0), Stop(1, 11)])
def test_stops_outside_the_layout_are_refused(function, stop):
    with pytest.raises(ValueError, match="outside the layout"):
        function([Stop(1, 1), stop], Layout(bays=10, cross_aisles=(5,)))


# -- properties ------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(layouts_and_stops(), st.sampled_from(sorted(HEURISTICS)))
def test_a_heuristic_walks_a_real_route_never_shorter_than_the_optimum(case, name):
    stops, layout = case
    ordered, length, points = heuristics._walk(heuristics.PLANS[name], stops, layout)
    assert (ordered, length) == HEURISTICS[name](stops, layout)
    assert sorted(_keys(ordered)) == sorted(_keys(stops))
    assert _same_positions_together(ordered)
    _check_walk(points, ordered, length, layout)
    assert length >= route_length(ordered, layout) - 1e-9
    assert length >= optimal_length(stops, layout) - 1e-9


@settings(max_examples=200, deadline=None)
@given(layouts_and_stops(), st.booleans())
def test_combined_is_never_longer_than_s_shape_from_the_same_end(case, mirrored):
    stops, layout = case
    s_length = heuristics._walk(heuristics._s_shape_plan, stops, layout, mirrored)[1]
    assert heuristics._walk(heuristics._combined_plan, stops, layout, mirrored)[1] <= s_length + 1e-9


@settings(max_examples=200, deadline=None)
@given(layouts_and_stops(max_stops=20, max_blocks=5), st.randoms(use_true_random=False), st.sampled_from([0, 5]))
def test_local_search_never_lengthens_a_route_and_keeps_every_stop(case, rng, kicks):
    stops, layout = case
    sequence = list(stops)
    rng.shuffle(sequence)
    ordered, length = improve(sequence, layout, kicks=kicks)
    assert sorted(_keys(ordered)) == sorted(_keys(stops))
    assert _same_positions_together(ordered)
    assert length == route_length(ordered, layout)
    assert length <= route_length(sequence, layout) + 1e-9


@settings(max_examples=200, deadline=None)
@given(layouts_and_stops())
def test_best_route_is_a_real_route_no_longer_than_any_heuristic(case):
    stops, layout = case
    ordered, length = best_route(stops, layout)
    assert sorted(_keys(ordered)) == sorted(_keys(stops))
    assert _same_positions_together(ordered)
    assert length == route_length(ordered, layout)
    assert length >= optimal_length(stops, layout) - 1e-9
    assert all(length <= heuristic(stops, layout)[1] + 1e-9 for heuristic in HEURISTICS.values())


@settings(max_examples=60, deadline=None)
@given(layouts_and_stops(max_stops=8, min_blocks=EXACT_MAX_BLOCKS + 1, max_blocks=EXACT_MAX_BLOCKS + 1))
def test_route_beyond_the_exact_blocks_is_best_route_and_never_below_the_optimum(case):
    stops, layout = case
    ordered, length = route(stops, layout)
    assert (ordered, length) == best_route(stops, layout)
    assert length >= optimal_length(stops, layout) - 1e-9


def test_route_on_four_blocks_returns_every_stop_with_its_route_length():
    rng = random.Random(7)
    layout = Layout(bays=60, cross_aisles=(15, 30, 45), depot_aisle=10)
    stops = [Stop(rng.randint(1, 20), rng.randint(1, 60), i) for i in range(50)]
    ordered, length = route(stops, layout)
    assert sorted(_keys(ordered)) == list(range(50))
    assert _same_positions_together(ordered)
    assert length == route_length(ordered, layout)
    assert length <= min(heuristic(stops, layout)[1] for heuristic in HEURISTICS.values())
