import pytest
from hypothesis import given, settings

from picking.geometry import Layout, Stop, route_length
from picking.heuristics import s_shape
from picking.routing import held_karp_length, optimal, optimal_length
from picking.tests.strategies import layouts_and_stops

# Held-Karp checks every route: up to 9 stops keep it quick.
MAX_STOPS = 9


@settings(max_examples=400, deadline=None)
@given(layouts_and_stops(max_stops=MAX_STOPS))
def test_optimal_route_is_as_short_as_held_karp_and_a_real_tour_of_that_length(case):
    stops, layout = case
    ordered, distance = optimal(stops, layout)
    assert distance == pytest.approx(held_karp_length(stops, layout), abs=1e-6)
    assert optimal_length(stops, layout) == pytest.approx(distance, abs=1e-9)
    assert sorted(s.key for s in ordered) == sorted(s.key for s in stops)
    assert route_length(ordered, layout) == pytest.approx(distance, abs=1e-6)


@settings(max_examples=150, deadline=None)
@given(layouts_and_stops(max_stops=MAX_STOPS))
def test_optimal_route_is_never_longer_than_s_shape(case):
    stops, layout = case
    assert optimal_length(stops, layout) <= s_shape(stops, layout)[1] + 1e-9


def test_optimal_skips_the_aisle_walk_s_shape_does():
    # Picks deep in aisle 1 and shallow in aisle 2: S-shape walks both aisles end to end (10 + 10 + 6),
    # the optimum goes to bay 9 and back in aisle 1, then to bay 1 and back in aisle 2 (17 + 1 + 6).
    stops = [Stop(1, 9, "deep"), Stop(2, 1, "shallow")]
    layout = Layout(bays=10)
    assert s_shape(stops, layout)[1] == 26
    ordered, distance = optimal(stops, layout)
    assert distance == pytest.approx(24)
    assert {s.key for s in ordered} == {"deep", "shallow"}


def test_optimal_uses_the_largest_gap_when_an_aisle_has_picks_at_both_ends():
    # Up aisle 1, across the back, down aisle 3, across the front (20 + 6 + 20 + 6); aisle 2 has picks
    # at bays 1 and 20 of 20: a 1 m spur from each cross aisle instead of walking the aisle.
    stops = [Stop(1, 10, "a"), Stop(2, 1, "b"), Stop(2, 20, "c"), Stop(3, 10, "d")]
    layout = Layout(bays=20)
    ordered, distance = optimal(stops, layout)
    assert distance == pytest.approx(held_karp_length(stops, layout))
    assert distance == pytest.approx(20 + 6 + 20 + 6 + 1 + 1)
    assert [s.key for s in ordered] == ["a", "c", "d", "b"]
    assert s_shape(stops, layout)[1] == 71


def test_several_stops_at_one_position_are_all_visited_together():
    stops = [Stop(2, 4, "x"), Stop(2, 4, "y"), Stop(1, 2, "z")]
    ordered, distance = optimal(stops, Layout(bays=5))
    keys = [s.key for s in ordered]
    assert sorted(keys) == ["x", "y", "z"]
    assert abs(keys.index("x") - keys.index("y")) == 1
    assert distance == pytest.approx(held_karp_length(stops, Layout(bays=5)))


def test_no_stops_is_an_empty_route():
    assert optimal([], Layout(bays=10)) == ([], 0.0)


def test_a_stop_at_the_depot_aisle_only_walks_that_aisle():
    ordered, distance = optimal([Stop(1, 3, "a")], Layout(bays=10))
    assert distance == pytest.approx(5)
    assert [s.key for s in ordered] == ["a"]


@pytest.mark.parametrize("stop", [Stop(0, 1), Stop(1, 0), Stop(1, 11)])
def test_stops_outside_the_layout_are_refused(stop):
    with pytest.raises(ValueError, match="outside the layout"):
        optimal([stop], Layout(bays=10))


def test_fifty_stops_in_twenty_aisles_give_a_tour_through_all_of_them():
    stops = [Stop(1 + (7 * i) % 20, 1 + (11 * i) % 30, i) for i in range(50)]
    layout = Layout(bays=30)
    ordered, distance = optimal(stops, layout)
    assert sorted(s.key for s in ordered) == list(range(50))
    assert route_length(ordered, layout) == pytest.approx(distance)
    assert distance <= s_shape(stops, layout)[1]


def test_two_blocks_use_the_middle_cross_aisle_to_skip_the_back_half():
    # 20 bays in two blocks of 10 (middle cross aisle at 10 m), picks at bay 9 (8.5 m) of aisles 1-3:
    # up aisle 1 to the middle cross aisle, across, down aisle 3, back along the front (10 + 6 + 10 + 6),
    # with a 1.5 m spur down aisle 2 from the middle: 35 m. On one block each aisle is entered and left
    # from the front (3 x 17 + 12): 63 m.
    stops = [Stop(1, 9, "a"), Stop(2, 9, "b"), Stop(3, 9, "c")]
    two_blocks = Layout(bays=20, cross_aisles=(10,))
    ordered, distance = optimal(stops, two_blocks)
    assert distance == pytest.approx(35)
    assert [s.key for s in ordered] in (["a", "b", "c"], ["c", "b", "a"])
    assert optimal_length(stops, Layout(bays=20)) == pytest.approx(held_karp_length(stops, Layout(bays=20)))
    assert optimal_length(stops, Layout(bays=20)) == pytest.approx(63)


def test_the_route_starts_and_ends_at_a_depot_in_the_middle():
    # Depot at the front of aisle 3; picks at the front of aisles 1 and 5: out and back both ways.
    stops = [Stop(1, 1, "left"), Stop(5, 1, "right")]
    layout = Layout(bays=10, depot_aisle=3)
    ordered, distance = optimal(stops, layout)
    assert distance == pytest.approx(4 * 6 + 2 * 1)
    assert {s.key for s in ordered} == {"left", "right"}
