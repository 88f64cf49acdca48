"""Routing heuristics for warehouses of one or more blocks, and a local search that improves them.

The classic heuristics after Roodbergen and de Koster (2001), "Routing methods for warehouses
with multiple cross aisles" (IJPR 39(9)), with the geometry of ``picking.geometry.Layout``: blocks
numbered from the front (0) to the back, block k between cross aisles ``lines[k]`` (its front)
and ``lines[k + 1]`` (its back), the depot on the front cross aisle at ``depot_aisle``.

All three start alike: from the depot along the front cross aisle to the *start aisle* (the
left-most aisle with picks, or the right-most when that one is nearer the depot: then
everything below is mirrored), up that aisle to the front of the *farthest block* (the one
farthest from the depot that holds picks), then block by block back to the front, each block
swept from the end of its picks nearer the picker to the other end, and finally along the front
cross aisle to the depot. They differ in how a block is swept (the picker enters block k at its
back, or at its front for the farthest block, and must leave it at its front):

- `s_shape`: every sub-aisle with picks is walked through, alternating direction; when the
  parity would leave the picker at the back, the last one is entered and left from the front.
- `largest_gap`: the sub-aisles at the ends of the block's picks are walked through (both in
  the farthest block, where the picker starts and ends at the front; only the far one in the
  others); every other sub-aisle is entered from the back and from the front up to its largest
  gap (between two picks, or between a pick and a cross aisle), on the way out along the back
  and on the way back along the front.
- `combined`: each sub-aisle, in sweep order, is either walked through or entered and left from
  the side the picker is on, whichever a small dynamic programme over the block finds shortest.

Each returns ``(stops in walking order, length)``: the length of the walk the heuristic really
makes (recorded move by move, so never below the optimum, and never below ``route_length`` of
its order, the shortest walk visiting the stops in that order). A stop is picked when the walk
first passes its position, so stops at one position are picked together.

`improve` is a local search (2-opt and or-opt moves on the sequence of positions, with the
metric of ``route_length``, optionally iterated with random perturbations), and `best_route`
the three heuristics, each started from either end and improved by it, the shortest of them
then perturbed and settled again ``_KICKS`` times: what ``routing.route`` uses beyond
``routing.EXACT_MAX_BLOCKS`` blocks. On 50 picks in 20 aisles of 4-6 blocks it takes about
11-12 ms of CPU and comes within about 0.1% of the optimum on average (bench/routing.py).
"""

from __future__ import annotations

import dataclasses
import random
from collections import deque
from collections.abc import Callable

# The metric point by point (the one route_length uses), so that the local search measures
# exactly what route_length measures.
from picking.geometry import Layout, Stop, depot_position, position, position_distance, route_length

_EPS = 1e-9
_INF = float("inf")


class _Walk:
    """A walk along aisles and cross aisles from the depot, recorded move by move."""

    def __init__(self, entries: list[tuple[int, Stop]], layout: Layout) -> None:
        self.layout = layout
        self.aisle, self.y = layout.depot_aisle, 0.0
        self.length = 0.0
        self.points: list[tuple[int, float]] = [(self.aisle, self.y)]
        self.ordered: list[Stop] = []
        by_position: dict[int, dict[int, list[Stop]]] = {}
        for aisle, stop in entries:
            by_position.setdefault(aisle, {}).setdefault(stop.bay, []).append(stop)
        # aisle -> positions not yet passed, front to back: (y, block, stops)
        self.todo: dict[int, list[tuple[float, int, list[Stop]]]] = {
            aisle: [(layout.y(bay), layout.block_of(bay), bays[bay]) for bay in sorted(bays)]
            for aisle, bays in by_position.items()
        }

    def along(self, aisle: int) -> None:
        """Along the cross aisle the picker stands on, to ``aisle``."""
        if aisle == self.aisle:
            return
        assert self.y in self.layout.lines, "only cross aisles lead from one aisle to another"
        self.length += abs(aisle - self.aisle) * self.layout.aisle_pitch_m
        self.aisle = aisle
        self.points.append((aisle, self.y))

    def to(self, y: float) -> None:
        """Up or down the current aisle to ``y``, picking every position passed on the way."""
        low, high = min(self.y, y), max(self.y, y)
        pending = self.todo.get(self.aisle)
        if pending:
            passed = [p for p in pending if low <= p[0] <= high]
            if passed:
                if y < self.y:
                    passed.reverse()
                for _y, _block, stops in passed:
                    self.ordered.extend(stops)
                remaining = [p for p in pending if not low <= p[0] <= high]
                if remaining:
                    self.todo[self.aisle] = remaining
                else:
                    del self.todo[self.aisle]
        self.length += high - low
        self.y = y
        self.points.append((self.aisle, y))

    def picks(self, aisle: int, block: int) -> list[float]:
        """y of the positions still to pick in one sub-aisle, front to back."""
        return [y for y, b, _stops in self.todo.get(aisle, ()) if b == block]

    def aisles_with_picks(self, block: int) -> list[int]:
        return sorted(a for a, pending in self.todo.items() if any(b == block for _y, b, _s in pending))

    def climb(self) -> int:
        """From the depot to the start aisle and up it to the front of the farthest block; that block."""
        farthest = max(b for pending in self.todo.values() for _y, b, _s in pending)
        self.along(min(self.todo))
        self.to(self.layout.lines[farthest])
        return farthest

    def nearer_end_first(self, aisles: list[int]) -> list[int]:
        return aisles[::-1] if abs(aisles[-1] - self.aisle) < abs(aisles[0] - self.aisle) else aisles

    def finish(self) -> None:
        assert not self.todo, "every stop is picked"
        assert self.y == 0.0, "the walk ends on the front cross aisle"
        self.along(self.layout.depot_aisle)


def _s_shape_plan(walk: _Walk) -> None:
    lines = walk.layout.lines
    farthest = walk.climb()
    for k in range(farthest, -1, -1):
        front, back = lines[k], lines[k + 1]
        aisles = walk.aisles_with_picks(k)
        if not aisles:
            walk.to(front)  # nothing here: straight down to the next block
            continue
        on_front = k == farthest
        aisles = walk.nearer_end_first(aisles)
        for i, aisle in enumerate(aisles):
            walk.along(aisle)
            if on_front and i == len(aisles) - 1:
                # Walking through would end at the back: in to the deepest pick and out again.
                walk.to(walk.picks(aisle, k)[-1])
                walk.to(front)
            else:
                walk.to(back if on_front else front)
                on_front = not on_front


def _gap_split(ys: list[float], front: float, back: float) -> tuple[list[float], list[float]]:
    """(picks reached from the front, picks reached from the back): the largest gap is left out."""
    gap, cut = back - ys[-1], len(ys)  # the gap behind the last pick: everything from the front
    if ys[0] - front > gap:
        gap, cut = ys[0] - front, 0
    for i in range(1, len(ys)):
        if ys[i] - ys[i - 1] > gap:
            gap, cut = ys[i] - ys[i - 1], i
    return ys[:cut], ys[cut:]


def _largest_gap_plan(walk: _Walk) -> None:
    lines = walk.layout.lines
    farthest = walk.climb()
    for k in range(farthest, -1, -1):
        front, back = lines[k], lines[k + 1]
        aisles = walk.aisles_with_picks(k)
        if not aisles:
            walk.to(front)
            continue
        if k == farthest:
            if len(aisles) == 1:
                walk.along(aisles[0])
                walk.to(walk.picks(aisles[0], k)[-1])
                walk.to(front)
                continue
            # From the front: through the first sub-aisle to the back, through the last one back.
            middle, last = aisles[1:-1], aisles[-1]
            walk.along(aisles[0])
            walk.to(back)
        else:
            aisles = walk.nearer_end_first(aisles)
            middle, last = aisles[:-1], aisles[-1]
        splits = [_gap_split(walk.picks(a, k), front, back) for a in middle]
        for aisle, (_from_front, from_back) in zip(middle, splits, strict=True):
            if from_back:
                walk.along(aisle)
                walk.to(from_back[0])
                walk.to(back)
        walk.along(last)
        walk.to(front)
        for aisle, (from_front, _from_back) in reversed(list(zip(middle, splits, strict=True))):
            if from_front:
                walk.along(aisle)
                walk.to(from_front[-1])
                walk.to(front)


THROUGH, RETURN = "through", "return"


def _combined_choices(groups: list[list[float]], front: float, back: float, on_front: bool) -> list[str]:
    """Per sub-aisle in sweep order, THROUGH or RETURN (from the side the picker is on), ending at the front.

    The walk along the cross aisles is the same whatever the choices, so only the aisle walks count.
    """
    through = back - front
    cost = {on_front: 0.0, not on_front: _INF}
    trail: list[dict[bool, tuple[bool, str]]] = []
    for ys in groups:
        new = {True: _INF, False: _INF}
        came: dict[bool, tuple[bool, str]] = {}
        for side in (True, False):
            here = cost[side]
            if here == _INF:
                continue
            if here + through < new[not side]:
                new[not side] = here + through
                came[not side] = (side, THROUGH)
            spur = here + (2 * (ys[-1] - front) if side else 2 * (back - ys[0]))
            if spur < new[side]:
                new[side] = spur
                came[side] = (side, RETURN)
        trail.append(came)
        cost = new
    side, choices = True, []
    for came in reversed(trail):
        side, choice = came[side]
        choices.append(choice)
    return choices[::-1]


def _combined_plan(walk: _Walk) -> None:
    lines = walk.layout.lines
    farthest = walk.climb()
    for k in range(farthest, -1, -1):
        front, back = lines[k], lines[k + 1]
        aisles = walk.aisles_with_picks(k)
        if not aisles:
            walk.to(front)
            continue
        on_front = k == farthest
        aisles = walk.nearer_end_first(aisles)
        groups = [walk.picks(a, k) for a in aisles]
        for aisle, ys, choice in zip(aisles, groups, _combined_choices(groups, front, back, on_front), strict=True):
            walk.along(aisle)
            if choice == THROUGH:
                walk.to(back if on_front else front)
                on_front = not on_front
            elif on_front:
                walk.to(ys[-1])
                walk.to(front)
            else:
                walk.to(ys[0])
                walk.to(back)


def _walk(
    plan: Callable[[_Walk], None], stops: list[Stop], layout: Layout, mirrored: bool | None = None
) -> tuple[list[Stop], float, list[tuple[int, float]]]:
    """(stops in walking order, length, the walk's corners in the layout's aisles) of one heuristic.

    mirrored: start from the right-most aisle with picks and sweep right to left (None: when that
    aisle is nearer the depot than the left-most).
    """
    layout.check(stops)
    if not stops:
        return [], 0.0, [(layout.depot_aisle, 0.0)]
    low = min(s.aisle for s in stops)
    high = max([layout.depot_aisle, *(s.aisle for s in stops)])
    if mirrored is None:
        mirrored = high - layout.depot_aisle < layout.depot_aisle - low
    if mirrored:
        frame = dataclasses.replace(layout, depot_aisle=high + 1 - layout.depot_aisle)
        walk = _Walk([(high + 1 - s.aisle, s) for s in stops], frame)
    else:
        walk = _Walk([(s.aisle, s) for s in stops], layout)
    plan(walk)
    walk.finish()
    points = [(high + 1 - a, y) for a, y in walk.points] if mirrored else walk.points
    return walk.ordered, walk.length, points


def s_shape(stops: list[Stop], layout: Layout) -> tuple[list[Stop], float]:
    """(stops in walking order, length in metres) of the S-shape (traversal) heuristic."""
    ordered, length, _points = _walk(_s_shape_plan, stops, layout)
    return ordered, length


def largest_gap(stops: list[Stop], layout: Layout) -> tuple[list[Stop], float]:
    """(stops in walking order, length in metres) of the largest gap heuristic."""
    ordered, length, _points = _walk(_largest_gap_plan, stops, layout)
    return ordered, length


def combined(stops: list[Stop], layout: Layout) -> tuple[list[Stop], float]:
    """(stops in walking order, length in metres) of the combined heuristic."""
    ordered, length, _points = _walk(_combined_plan, stops, layout)
    return ordered, length


PLANS = {"s_shape": _s_shape_plan, "largest_gap": _largest_gap_plan, "combined": _combined_plan}


# -- local search -----------------------------------------------------------------------------

_NEIGHBOURS = 10  # moves join a position to one of this many nearest positions
_KICKS = 100  # best_route's perturbations of its best tour
_KICK_SPAN = 15  # the longest stretch a perturbation moves


class _Positions:
    """The distinct positions of a list of stops, the depot as index 0, and their distances."""

    def __init__(self, stops: list[Stop], layout: Layout) -> None:
        self.layout = layout
        groups: dict[tuple[int, int], list[Stop]] = {}
        for stop in stops:
            groups.setdefault((stop.aisle, stop.bay), []).append(stop)
        self.keys = list(groups)
        self.groups = groups
        self.index = {key: i for i, key in enumerate(self.keys, start=1)}
        points = [depot_position(layout), *(position(groups[key][0], layout) for key in self.keys)]
        n = len(points)
        dist = [[0.0] * n for _ in range(n)]
        for i in range(n):
            row, p = dist[i], points[i]
            for j in range(i + 1, n):
                row[j] = dist[j][i] = position_distance(p, points[j], layout)
        self.dist = dist
        self.near = [sorted((j for j in range(n) if j != i), key=dist[i].__getitem__)[:_NEIGHBOURS] for i in range(n)]

    def tour(self, ordered: list[Stop]) -> list[int]:
        """The closed tour (0, positions in order of first visit, 0) of a visiting sequence."""
        seen: dict[int, None] = {}
        for stop in ordered:
            seen.setdefault(self.index[stop.aisle, stop.bay])
        return [0, *seen, 0]

    def stops(self, tour: list[int]) -> list[Stop]:
        return [stop for i in tour[1:-1] for stop in self.groups[self.keys[i - 1]]]


def improve(ordered: list[Stop], layout: Layout, *, kicks: int = 0) -> tuple[list[Stop], float]:
    """A visiting sequence improved by local search: (stops in walking order, ``route_length`` of it).

    2-opt and or-opt moves until none shortens it; then, with ``kicks``, that many times a random
    exchange of two neighbouring stretches, settled again and kept when shorter (iterated local
    search, seeded, so the same input gives the same route). Never longer than the sequence
    given; stops at one position end up together, where the position is first visited.
    """
    layout.check(ordered)
    if not ordered:
        return [], 0.0
    positions = _Positions(ordered, layout)
    cycle = _Cycle(positions.tour(ordered)[:-1], positions.dist, positions.near)
    cycle.settle(cycle.order)
    cycle.kick(kicks)
    # Each move shortens the tour by more than _EPS, and visiting a position once instead of
    # again later never lengthens a walk: the result is never longer than the input.
    result = positions.stops(cycle.closed())
    return result, route_length(result, layout)


class _Cycle:
    """A tour as a cycle of position indices, improved by 2-opt (reverse a path) and or-opt (move a
    path of 1-3 positions elsewhere, either way round), each move joining a position to one of its
    nearest (``near``). Positions whose surroundings have not changed since they last yielded no
    move are not looked at again (don't-look bits), so that settling after a local change is cheap.
    The metric is symmetric, so a path reversed is the same length."""

    def __init__(self, order: list[int], dist: list[list[float]], near: list[list[int]]) -> None:
        self.order, self.dist, self.near = list(order), dist, near
        self.n = len(order)
        self.at = [0] * len(dist)
        for i, v in enumerate(self.order):
            self.at[v] = i

    def closed(self) -> list[int]:
        start = self.at[0]
        return [*self.order[start:], *self.order[:start], 0]

    def length(self) -> float:
        order, dist = self.order, self.dist
        return sum(dist[order[i - 1]][order[i]] for i in range(self.n))

    def settle(self, active) -> None:
        if self.n < 4:
            return  # the depot and two positions: both ways round are the same
        queue = deque(dict.fromkeys(active))
        queued = set(queue)
        while queue:
            v = queue.popleft()
            queued.discard(v)
            touched = self._two_opt(v) or self._or_opt(v)
            if touched:
                for u in (v, *touched):
                    if u not in queued:
                        queued.add(u)
                        queue.append(u)

    def kick(self, times: int) -> None:
        """Iterated local search: exchange two neighbouring stretches (B and C in A B C D), settle,
        keep the result when shorter, else go back."""
        n = self.n
        span = min(_KICK_SPAN, (n - 2) // 2)
        if span < 2:
            return
        rng = random.Random(n)
        length = self.length()
        for _ in range(times):
            saved = list(self.order)
            start, b, c = rng.randrange(n), rng.randint(1, span), rng.randint(1, span)
            o = self.order[start:] + self.order[:start]
            self.order[:] = [o[0], *o[1 + b : 1 + b + c], *o[1 : 1 + b], *o[1 + b + c :]]
            for k, u in enumerate(self.order):
                self.at[u] = k
            self.settle((o[0], o[1], o[b], o[1 + b], o[b + c], o[(1 + b + c) % n]))
            kicked = self.length()
            if kicked < length - _EPS:
                length = kicked
            else:
                self.order[:] = saved
                for k, u in enumerate(saved):
                    self.at[u] = k

    def _two_opt(self, a: int) -> tuple[int, ...]:
        order, at, dist, n = self.order, self.at, self.dist, self.n
        da = dist[a]
        for step in (1, -1):
            # With b next to a (after it, or before it when step is -1), edges (a, b) and (c, d)
            # become (a, c) and (b, d), c near a and d next to c on the same side.
            b = order[(at[a] + step) % n]
            ab = da[b]
            for c in self.near[a]:
                ac = da[c]
                if ac >= ab - _EPS:
                    break  # nearer neighbours first: no shorter edge from a is left
                d = order[(at[c] + step) % n]
                if c == b or d == a:
                    continue
                if ac + dist[b][d] < ab + dist[c][d] - _EPS:
                    if step == 1:
                        self._reverse(at[b], at[c])
                    else:
                        self._reverse(at[a], at[d])
                    return (b, c, d)
        return ()

    def _reverse(self, i: int, j: int) -> None:
        """Reverse the path from index i forward to index j (or, shorter, everything else)."""
        order, at, n = self.order, self.at, self.n
        size = (j - i) % n + 1
        if 2 * size > n:
            i, j, size = (j + 1) % n, (i - 1) % n, n - size
        for k in range(size // 2):
            x, y = (i + k) % n, (j - k) % n
            order[x], order[y] = order[y], order[x]
            at[order[x]], at[order[y]] = x, y

    def _or_opt(self, v: int) -> tuple[int, ...]:
        order, at, dist, near, n = self.order, self.at, self.dist, self.near, self.n
        i = at[v]
        p = order[i - 1]
        for size in (1, 2, 3):
            if size > n - 3:
                break
            # The path of this size from v goes between x and y (the position after x), x outside
            # the path and not p: offsets from i in size .. n - 2.
            first, last = v, order[(i + size - 1) % n]
            q = order[(i + size) % n]
            gain = dist[p][first] + dist[last][q] - dist[p][q]
            df, dl = dist[first], dist[last]
            best, where, flip = -_EPS, -1, False
            top = n - 2
            # A move that shortens the tour has a new edge at the path shorter than what taking
            # the path out gains (the gain criterion of Lin and Kernighan): nearer neighbours first.
            for c in near[first]:
                if df[c] >= gain:
                    break
                k = at[c]
                y = order[(k + 1) % n]
                if size <= (k - i) % n <= top:  # c, first .. last, y
                    move = df[c] + dl[y] - dist[c][y] - gain
                    if move < best:
                        best, where, flip = move, c, False
                x = order[k - 1]
                if size <= (k - 1 - i) % n <= top:  # x, last .. first, c
                    move = dist[x][last] + df[c] - dist[x][c] - gain
                    if move < best:
                        best, where, flip = move, x, True
            for c in near[last]:
                if dl[c] >= gain:
                    break
                k = at[c]
                y = order[(k + 1) % n]
                if size <= (k - i) % n <= top:  # c, last .. first, y
                    move = dl[c] + df[y] - dist[c][y] - gain
                    if move < best:
                        best, where, flip = move, c, True
                x = order[k - 1]
                if size <= (k - 1 - i) % n <= top:  # x, first .. last, c
                    move = dist[x][first] + dl[c] - dist[x][c] - gain
                    if move < best:
                        best, where, flip = move, x, False
            if where >= 0:
                y = order[(at[where] + 1) % n]
                path = [order[(i + k) % n] for k in range(size)]
                rest = [order[(i + size + k) % n] for k in range(n - size)]
                cut = rest.index(where) + 1
                order[:] = rest[:cut] + (path[::-1] if flip else path) + rest[cut:]
                for k, u in enumerate(order):
                    at[u] = k
                return (p, q, first, last, where, y)
        return ()


def best_route(stops: list[Stop], layout: Layout) -> tuple[list[Stop], float]:
    """(stops in walking order, length in metres): S-shape, largest gap and combined, each started
    from either end and improved by local search; the shortest of them then kicked ``_KICKS``
    times (see `improve`)."""
    layout.check(stops)
    if not stops:
        return [], 0.0
    positions = _Positions(stops, layout)
    best: _Cycle | None = None
    best_length = _INF
    tried: set[tuple[int, ...]] = set()
    for plan in PLANS.values():
        for mirrored in (False, True):
            order = positions.tour(_walk(plan, stops, layout, mirrored)[0])[:-1]
            if tuple(order) in tried:
                continue
            tried.add(tuple(order))
            cycle = _Cycle(order, positions.dist, positions.near)
            cycle.settle(cycle.order)
            length = cycle.length()
            if length < best_length - _EPS:
                best, best_length = cycle, length
    assert best is not None
    best.kick(_KICKS)
    ordered = positions.stops(best.closed())
    return ordered, route_length(ordered, layout)
