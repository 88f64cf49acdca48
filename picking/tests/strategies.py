"""Hypothesis strategies shared by the routing, heuristics and batching tests: random warehouse
layouts (1 to 8 aisles, up to 20 bays, blocks split by middle cross aisles) and stops on them."""

from hypothesis import strategies as st

from picking.geometry import Layout, Stop


@st.composite
def layouts(draw, *, bays=None, min_blocks=1, max_blocks=3):
    """(layout, number of aisles): ``bays`` a strategy for the bays of an aisle (default 2 to 20,
    at least ``min_blocks``)."""
    aisles = draw(st.integers(1, 8))
    bays = draw(bays if bays is not None else st.integers(max(2, min_blocks), 20))
    blocks = draw(st.integers(min_blocks, min(max_blocks, bays)))
    cross = draw(st.lists(st.integers(1, bays - 1), min_size=blocks - 1, max_size=blocks - 1, unique=True))
    layout = Layout(
        bays=bays,
        aisle_pitch_m=draw(st.floats(2, 4, allow_nan=False)),
        bay_width_m=draw(st.floats(0.5, 2, allow_nan=False)),
        cross_aisles=tuple(sorted(cross)),
        depot_aisle=draw(st.integers(1, aisles)),
    )
    return layout, aisles


@st.composite
def layouts_and_stops(draw, *, max_stops=12, min_blocks=1, max_blocks=3):
    """(1 to ``max_stops`` stops keyed 0, 1, ..., their layout); stops may share a position."""
    layout, aisles = draw(layouts(min_blocks=min_blocks, max_blocks=max_blocks))
    positions = draw(
        st.lists(st.tuples(st.integers(1, aisles), st.integers(1, layout.bays)), min_size=1, max_size=max_stops)
    )
    return [Stop(aisle, bay, index) for index, (aisle, bay) in enumerate(positions)], layout
