"""Pick routes through a warehouse of parallel aisles (one block, depot at the front of aisle 1).

This is the S-shape (traversal) route: every aisle holding a pick is walked end to end,
alternating direction; with an odd number of such aisles the last one is entered and left
from the front. Exact routing (Ratliff-Rosenthal) replaces it with the routing issue.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Stop:
    aisle: int
    bay: int
    key: object = None


def s_shape(stops: list[Stop], *, bays: int, aisle_pitch_m: float, bay_width_m: float) -> tuple[list[Stop], float]:
    """(stops in walking order, route length in metres) from and back to the depot."""
    if not stops:
        return [], 0.0
    aisle_length = bays * bay_width_m
    aisles = sorted({s.aisle for s in stops})
    ordered: list[Stop] = []
    distance = 0.0
    for index, aisle in enumerate(aisles):
        in_aisle = sorted((s for s in stops if s.aisle == aisle), key=lambda s: s.bay)
        going_up = index % 2 == 0
        last = index == len(aisles) - 1
        if last and going_up:
            # Enter from the front, go as deep as the farthest pick, come back out.
            distance += 2 * (max(s.bay for s in in_aisle) - 0.5) * bay_width_m
            ordered.extend(in_aisle)
        else:
            distance += aisle_length
            ordered.extend(in_aisle if going_up else list(reversed(in_aisle)))
    # Along the cross aisles: out to the farthest aisle and back to the depot at aisle 1.
    distance += 2 * (aisles[-1] - 1) * aisle_pitch_m
    return ordered, round(distance, 1)
