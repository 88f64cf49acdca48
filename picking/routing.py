"""Pick routes through a warehouse of parallel aisles (one block, depot at the front of aisle 1).

Aisles 1..A stand at x = (aisle - 1) * pitch; a pick at bay b is at y = (b - 0.5) * bay width;
the front cross aisle is y = 0, the back one y = bays * bay width. Pickers walk only along
aisles and the two cross aisles.

- `optimal`: the shortest tour (Ratliff and Rosenthal's dynamic programme, linear in aisles).
- `s_shape`: the S-shape (traversal) heuristic: every aisle holding a pick is walked end to end,
  alternating direction; with an odd number of such aisles the last one is entered and left
  from the front. Kept for comparison (benchmarks).
- `held_karp_length` and `route_length`: exact and given-order lengths under the same
  shortest-walk metric, to check `optimal` on small lists.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise


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


# --- Exact single-block routing (Ratliff & Rosenthal 1983) -------------------------------------
#
# The tour is a multigraph on the front (a_j) and back (b_j) ends of every aisle and the pick
# positions: aisle segments (vertical) and cross-aisle edges between neighbouring aisles
# (horizontal), each used 0, 1 or 2 times, every vertex of even degree and everything connected.
# Sweeping the aisles left to right, a partial tour subgraph is summarised by one of seven
# equivalence classes: the degree of a_j and b_j (0 = not in the tour, E = even, U = odd) and
# how many components touch them (0C, 1C, 2C; "0, 0, 1C" is a tour already closed).
# The depot is a virtual aisle 0 at x = 0 joined to a_1 by a zero-length edge, so the DP starts
# from "E, 0, 1C" and needs no special case. So "0, 0, 0C" never occurs, and as the sweep stops at
# the last aisle with a pick "0, 0, 1C" is only reached past it; both are kept for the full model.

_ZERO, _EVEN, _ODD = 0, 1, 2
CLASSES: tuple[tuple[int, int, int], ...] = (
    (_ZERO, _ZERO, 0),  # nothing yet
    (_ZERO, _ZERO, 1),  # closed tour, nothing may follow
    (_ODD, _ODD, 1),
    (_EVEN, _ZERO, 1),
    (_ZERO, _EVEN, 1),
    (_EVEN, _EVEN, 1),
    (_EVEN, _EVEN, 2),
)
_CLOSED = 1
_START = CLASSES.index((_EVEN, _ZERO, 1))
_FINAL = frozenset(
    CLASSES.index(c) for c in ((_ZERO, _ZERO, 1), (_EVEN, _ZERO, 1), (_ZERO, _EVEN, 1), (_EVEN, _EVEN, 1))
)

# The six ways of covering an aisle: nothing, one traversal, two traversals, doubled from both
# ends leaving out the largest gap between picks, doubled from the front up to the last pick,
# doubled from the back down to the first pick.
NONE, TRAVERSE, DOUBLE, GAP, FRONT, BACK = range(6)
_WITH_PICKS = (TRAVERSE, DOUBLE, GAP, FRONT, BACK)
_WITHOUT_PICKS = (NONE, TRAVERSE, DOUBLE)


def _step(cls: int, hb: int, ht: int, cover: int, picks: bool) -> int | None:
    """Class after adding hb front and ht back cross-aisle edges and a cover of the next aisle."""
    da, db, comps = CLASSES[cls]
    if cls == _CLOSED:
        return _CLOSED if (hb, ht, cover, picks) == (0, 0, NONE, False) else None
    # Nodes: 0 a_j, 1 b_j, 2 a_j+1, 3 b_j+1, 4 picks reached from the front, 5 from the back.
    parent = list(range(6))

    def find(n: int) -> int:
        while parent[n] != n:
            n = parent[n]
        return n

    def union(m: int, n: int) -> None:
        parent[find(m)] = find(n)

    degree = [da, db, 0, 0, 0, 0]  # parity only for the old ends: 1 even (in the tour), 2 odd
    present = [da != _ZERO, db != _ZERO, False, False, False, False]
    if comps == 1 and present[0] and present[1]:
        union(0, 1)
    for old, new, times in ((0, 2, hb), (1, 3, ht)):
        if times:
            odd = (degree[old] == _ODD) != (times % 2 == 1)
            if not present[old] and times % 2:
                return None
            if odd:
                return None
            present[old] = present[new] = True
            degree[new] += times
            union(old, new)
        elif degree[old] == _ODD:
            return None
    if picks:
        present[4] = cover in (TRAVERSE, DOUBLE, GAP, FRONT)
        present[5] = cover in (GAP, BACK)
        if cover == NONE:
            return None
    add_a, add_b = {NONE: (0, 0), TRAVERSE: (1, 1), DOUBLE: (2, 2), GAP: (2, 2), FRONT: (2, 0), BACK: (0, 2)}[cover]
    if not picks and cover not in _WITHOUT_PICKS:
        return None
    degree[2] += add_a
    degree[3] += add_b
    if add_a:
        present[2] = True
    if add_b:
        present[3] = True
    if cover in (TRAVERSE, DOUBLE):
        union(2, 3)
        if picks:
            union(4, 2)
    elif cover in (GAP, FRONT):
        union(4, 2)
        if cover == GAP:
            union(5, 3)
    elif cover == BACK:
        union(5, 3)
    roots = {find(n) for n in range(6) if present[n]}
    live = {find(n) for n in (2, 3) if present[n]}
    finished = roots - live
    if finished:
        return _CLOSED if len(roots) == 1 else None
    new_a = _ZERO if not present[2] else (_EVEN if degree[2] % 2 == 0 else _ODD)
    new_b = _ZERO if not present[3] else (_EVEN if degree[3] % 2 == 0 else _ODD)
    if present[2] and present[3]:
        new_comps = 1 if find(2) == find(3) else 2
    else:
        new_comps = len(live)
    key = (new_a, new_b, new_comps)
    return CLASSES.index(key) if key in CLASSES else None


def _transitions(classes: tuple[tuple[int, int, int], ...]) -> dict[tuple[int, bool], list[tuple[int, int, int, int]]]:
    table: dict[tuple[int, bool], list[tuple[int, int, int, int]]] = {}
    for cls in range(len(classes)):
        for picks in (False, True):
            moves = []
            for hb in (0, 1, 2):
                for ht in (0, 1, 2):
                    for cover in _WITH_PICKS if picks else _WITHOUT_PICKS:
                        new = _step(cls, hb, ht, cover, picks)
                        if new is not None:
                            moves.append((hb, ht, cover, new))
            table[(cls, picks)] = moves
    return table


_MOVES = _transitions(CLASSES)


def _check_layout(stops: list[Stop], bays: int, aisle_pitch_m: float, bay_width_m: float) -> None:
    if bays < 1 or aisle_pitch_m < 0 or bay_width_m < 0:
        raise ValueError("the layout needs at least one bay and a non-negative aisle pitch and bay width")
    for stop in stops:
        if stop.aisle < 1 or not 1 <= stop.bay <= bays:
            raise ValueError(f"stop {stop.key!r} at aisle {stop.aisle}, bay {stop.bay} is outside the layout")


def optimal(stops: list[Stop], *, bays: int, aisle_pitch_m: float, bay_width_m: float) -> tuple[list[Stop], float]:
    """(stops in walking order, length in metres) of a shortest tour from and back to the depot."""
    _check_layout(stops, bays, aisle_pitch_m, bay_width_m)
    if not stops:
        return [], 0.0
    length = bays * bay_width_m
    last_aisle = max(s.aisle for s in stops)
    bays_by_aisle: dict[int, list[int]] = {}
    for stop in stops:
        bays_by_aisle.setdefault(stop.aisle, []).append(stop.bay)
    inf = float("inf")
    # Per aisle (index 0 is the depot): distinct pick positions and the index of the largest gap.
    positions: list[list[float]] = [[]]
    gap_at: list[int] = [0]
    best: list[float] = [inf] * len(CLASSES)
    best[_START] = 0.0
    back: list[list[tuple[int, int, int, int] | None]] = [[None] * len(CLASSES)]
    for aisle in range(1, last_aisle + 1):
        ys = [(b - 0.5) * bay_width_m for b in sorted(set(bays_by_aisle.get(aisle, ())))]
        positions.append(ys)
        picks = bool(ys)
        cover_cost = [0.0, length, 2 * length, inf, inf, inf]
        gap_index = 0
        if picks:
            cover_cost[FRONT] = 2 * ys[-1]
            cover_cost[BACK] = 2 * (length - ys[0])
            if len(ys) > 1:
                gap_index = max(range(len(ys) - 1), key=lambda k: ys[k + 1] - ys[k])
                cover_cost[GAP] = 2 * (length - (ys[gap_index + 1] - ys[gap_index]))
        gap_at.append(gap_index)
        pitch = aisle_pitch_m if aisle > 1 else 0.0  # aisle 0 is the depot, at the front of aisle 1
        new_best = [inf] * len(CLASSES)
        new_back: list[tuple[int, int, int, int] | None] = [None] * len(CLASSES)
        for cls, cost in enumerate(best):
            if cost == inf:
                continue
            for hb, ht, cover, new in _MOVES[(cls, picks)]:
                total = cost + (hb + ht) * pitch + cover_cost[cover]
                if total < new_best[new]:
                    new_best[new] = total
                    new_back[new] = (cls, hb, ht, cover)
        best = new_best
        back.append(new_back)
    final = min(_FINAL, key=lambda c: best[c])
    if best[final] == inf:  # pragma: no cover - every layout has a tour
        raise AssertionError("no tour found")
    ordered = _walk(stops, final, back, positions, gap_at, bay_width_m)
    return ordered, best[final]


def _walk(
    stops: list[Stop],
    final: int,
    back: list[list[tuple[int, int, int, int] | None]],
    positions: list[list[float]],
    gap_at: list[int],
    bay_width_m: float,
) -> list[Stop]:
    """Stops in the order an Eulerian circuit of the chosen subgraph first reaches them."""
    edges: list[tuple[object, object]] = []

    def add(u: object, v: object, times: int) -> None:
        edges.extend([(u, v)] * times)

    cls = final
    for aisle in range(len(back) - 1, 0, -1):
        prev, hb, ht, cover = back[aisle][cls]
        add(("a", aisle - 1), ("a", aisle), hb)
        add(("b", aisle - 1), ("b", aisle), ht)
        ys = positions[aisle]
        chain = [("a", aisle)] + [("p", aisle, y) for y in ys] + [("b", aisle)]
        segments = list(pairwise(chain))
        if cover == TRAVERSE:
            for u, v in segments:
                add(u, v, 1)
        elif cover == DOUBLE:
            for u, v in segments:
                add(u, v, 2)
        elif cover == GAP:
            skip = gap_at[aisle] + 1
            for index, (u, v) in enumerate(segments):
                if index != skip:
                    add(u, v, 2)
        elif cover == FRONT:
            for u, v in segments[:-1]:
                add(u, v, 2)
        elif cover == BACK:
            for u, v in segments[1:]:
                add(u, v, 2)
        cls = prev
    adjacency: dict[object, list[tuple[object, int]]] = {}
    for index, (u, v) in enumerate(edges):
        adjacency.setdefault(u, []).append((v, index))
        adjacency.setdefault(v, []).append((u, index))
    used = [False] * len(edges)
    # Hierholzer: the circuit is the reverse of the order nodes are popped; it starts at the depot.
    stack: list[object] = [("a", 0)]
    circuit: list[object] = []
    while stack:
        node = stack[-1]
        neighbours = adjacency.get(node, [])
        while neighbours and used[neighbours[-1][1]]:
            neighbours.pop()
        if neighbours:
            other, index = neighbours.pop()
            used[index] = True
            stack.append(other)
        else:
            circuit.append(stack.pop())
    by_position: dict[tuple[int, float], list[Stop]] = {}
    for stop in stops:
        by_position.setdefault((stop.aisle, (stop.bay - 0.5) * bay_width_m), []).append(stop)
    ordered: list[Stop] = []
    for node in reversed(circuit):
        if node[0] == "p":
            ordered.extend(by_position.pop((node[1], node[2]), ()))
    return ordered


def _point(stop: Stop, bay_width_m: float) -> tuple[int, float]:
    return stop.aisle, (stop.bay - 0.5) * bay_width_m


def _between(p: tuple[int, float], q: tuple[int, float], length: float, aisle_pitch_m: float) -> float:
    """Shortest walk between two points of a single block (aisles and the two cross aisles only)."""
    (a1, y1), (a2, y2) = p, q
    if a1 == a2:
        return abs(y1 - y2)
    return min(y1 + y2, 2 * length - y1 - y2) + abs(a1 - a2) * aisle_pitch_m


def route_length(ordered: list[Stop], *, bays: int, aisle_pitch_m: float, bay_width_m: float) -> float:
    """Length of visiting the stops in the given order, from and back to the depot, by shortest walks."""
    _check_layout(ordered, bays, aisle_pitch_m, bay_width_m)
    length = bays * bay_width_m
    points = [(1, 0.0)] + [_point(s, bay_width_m) for s in ordered] + [(1, 0.0)]
    return sum(_between(p, q, length, aisle_pitch_m) for p, q in pairwise(points))


def held_karp_length(stops: list[Stop], *, bays: int, aisle_pitch_m: float, bay_width_m: float) -> float:
    """Exact shortest tour length by Held-Karp over the distinct positions (a check, for up to ~12)."""
    _check_layout(stops, bays, aisle_pitch_m, bay_width_m)
    length = bays * bay_width_m
    points = sorted({_point(s, bay_width_m) for s in stops})
    n = len(points)
    if n == 0:
        return 0.0
    if n > 14:
        raise ValueError("Held-Karp is only for checking up to 14 distinct positions")
    depot = (1, 0.0)
    start = [_between(depot, p, length, aisle_pitch_m) for p in points]
    dist = [[_between(p, q, length, aisle_pitch_m) for q in points] for p in points]
    inf = float("inf")
    full = 1 << n
    # cost[mask][i]: shortest path from the depot through the positions in mask, ending at i.
    cost = [[inf] * n for _ in range(full)]
    for i in range(n):
        cost[1 << i][i] = start[i]
    for mask in range(1, full):
        row = cost[mask]
        for i in range(n):
            here = row[i]
            if here == inf:
                continue
            di = dist[i]
            for j in range(n):
                bit = 1 << j
                if mask & bit:
                    continue
                candidate = here + di[j]
                target = cost[mask | bit]
                if candidate < target[j]:
                    target[j] = candidate
    return min(cost[full - 1][i] + start[i] for i in range(n))
