"""Pick routes through a warehouse of parallel aisles, in one block or several.

The geometry (``Layout``, ``Stop``) and the walking metric (``route_length``, ``distance``) are
picking.geometry's; the heuristics (picking.heuristics) build on the same metric, and this module
dispatches to them past EXACT_MAX_BLOCKS blocks.

- `optimal`: a shortest tour through the stops, exact for any number of blocks (a dynamic
  programme over the aisles, see below); `optimal_length` is the same without the walking order.
- `held_karp_length`: the exact optimum by Held-Karp over the same metric, to check `optimal`
  on small lists.
- `route`: the tour the planner walks, `optimal` up to EXACT_MAX_BLOCKS blocks and past that
  picking.heuristics.best_route; `shortest_length`: its length alone.
"""

from __future__ import annotations

from itertools import pairwise

from picking.geometry import Layout, Stop, depot_position, position, position_distance
from picking.heuristics import best_route


def held_karp_length(stops: list[Stop], layout: Layout) -> float:
    """Exact shortest tour length by Held-Karp over the distinct positions (a check, for up to ~12)."""
    layout.check(stops)
    points = sorted({position(s, layout) for s in stops})
    n = len(points)
    if n == 0:
        return 0.0
    if n > 14:
        raise ValueError("Held-Karp is only for checking up to 14 distinct positions")
    depot = depot_position(layout)
    start = [position_distance(depot, p, layout) for p in points]
    dist = [[position_distance(p, q, layout) for q in points] for p in points]
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


# -- exact routing: a dynamic programme over the aisles ---------------------------------------
#
# Ratliff and Rosenthal (1983) for one block, and Roodbergen and de Koster (2001) for two, sweep
# the aisles left to right and summarise a partial tour by equivalence classes. This is the same
# programme with the classes computed instead of tabulated, so that it is exact for any number
# of blocks: a tour is a multigraph on the cross-aisle crossings of every aisle (the nodes) and
# the picks, made of sub-aisle covers (vertical) and cross-aisle edges between neighbouring
# aisles (horizontal, each used 0, 1 or 2 times), every node of even degree and all connected.
#
# The state after an aisle holds, per node of that aisle (front, middle cross aisles, back):
# absent from the tour, or present with an even or odd degree so far, and which of the partial
# tour's components it belongs to (components numbered by first appearance, so that equal
# summaries are equal tuples). An entry is 0 (absent) or (component << 1) | odd.
#
# One aisle is added in small steps, each with few choices, instead of all combinations at once:
# - ("h", i): the edge count (0, 1, 2) from node i of the previous aisle to node i of this one.
#   The old node gets no more edges, so its degree must end even; a component whose last node
#   leaves the frontier this way is closed, which is never allowed (the sweep ends at the last
#   aisle with something to visit, so something would be left out).
# - ("d",): at the depot's aisle, its front node must be in the tour.
# - ("c", k, picks): the cover of block k's sub-aisle between nodes k and k + 1, one of
#   NONE, TRAVERSE (once through), DOUBLE (twice through), GAP (in and back from both ends,
#   leaving out the largest gap between picks), FRONT (in and back from node k up to the last
#   pick), BACK (in and back from node k + 1 down to the first pick). A sub-aisle with picks
#   may not be left out; one without picks is only ever crossed (TRAVERSE, DOUBLE) or not.
# At the end every present node must have an even degree and all must be one component.
# DOUBLE never shortens a one-block tour, but on two or more blocks it can (it joins the nodes of
# a sub-aisle without changing their parities; dropping it lengthens some two- and three-block
# tours by up to 6 m); the Held-Karp property test checks the result on one to three blocks.

NONE, TRAVERSE, DOUBLE, GAP, FRONT, BACK = range(6)
_WITH_PICKS = (TRAVERSE, DOUBLE, GAP, FRONT, BACK)
_WITHOUT_PICKS = (NONE, TRAVERSE, DOUBLE)
_ADDS = {NONE: (0, 0), TRAVERSE: (1, 1), DOUBLE: (2, 2), GAP: (2, 2), FRONT: (2, 0), BACK: (0, 2)}
_INF = float("inf")

State = tuple[int, ...]
_MOVES: dict[tuple, dict[State, list[tuple[int, State]]]] = {}


def canonical(entries: list[int]) -> State:
    mapping: dict[int, int] = {}
    out = []
    for entry in entries:
        if not entry:
            out.append(0)
            continue
        comp = entry >> 1
        label = mapping.setdefault(comp, len(mapping) + 1)
        out.append((label << 1) | (entry & 1))
    return tuple(out)


def across_moves(state: State, i: int) -> list[tuple[int, State]]:
    entry = state[i]
    if not entry:
        # Nothing at the old node: an edge from it would be a pointless spur.
        return [(0, state)]
    comp, odd = entry >> 1, entry & 1
    moves = []
    for h in (0, 1, 2):
        if (odd + h) % 2:
            continue  # the old node would end with an odd degree
        new = list(state)
        if h == 0:
            new[i] = 0
            if not any(e and e >> 1 == comp for e in new):
                continue  # its component would be closed off
        else:
            new[i] = (comp << 1) | (h & 1)
        moves.append((h, canonical(new)))
    return moves


def depot_moves(state: State) -> list[tuple[int, State]]:
    if state[0]:
        return [(0, state)]
    new = list(state)
    new[0] = (max((e >> 1 for e in state if e), default=0) + 1) << 1
    return [(0, canonical(new))]


def cover_moves(state: State, k: int, picks: bool) -> list[tuple[int, State]]:
    moves = []
    for cover in _WITH_PICKS if picks else _WITHOUT_PICKS:
        new = list(state)
        label = max((e >> 1 for e in state if e), default=0)
        for node, add in zip((k, k + 1), _ADDS[cover], strict=True):
            if add:
                if not new[node]:
                    label += 1
                    new[node] = label << 1
                new[node] ^= add & 1
        if cover in (TRAVERSE, DOUBLE):
            keep, drop = new[k] >> 1, new[k + 1] >> 1
            if keep != drop:
                new = [((keep << 1) | (e & 1)) if e and e >> 1 == drop else e for e in new]
        moves.append((cover, canonical(new)))
    return moves


def _table(step: tuple) -> dict[State, list[tuple[int, State]]]:
    """state -> its moves for one kind of step, filled on first use (the states are few: 5 for one
    block, 23 for two, about 110 for three)."""
    table = _MOVES.get(step)
    if table is None:
        table = _MOVES[step] = {}
    return table


def _moves_for(state: State, step: tuple) -> list[tuple[int, State]]:
    if step[0] == "h":
        return across_moves(state, step[1])
    if step[0] == "d":
        return depot_moves(state)
    return cover_moves(state, step[1], step[2])


def _relax(best: dict[State, float], step: tuple, costs, back: dict | None = None) -> dict[State, float]:
    table = _table(step)
    new: dict[State, float] = {}
    get = new.get
    for state, cost in best.items():
        moves = table.get(state)
        if moves is None:
            moves = table[state] = _moves_for(state, step)
        for option, target in moves:
            total = cost + costs[option]
            if total < get(target, _INF):
                new[target] = total
                if back is not None:
                    back[target] = (state, option)
    return new


def is_final(state: State) -> bool:
    present = [e for e in state if e]
    return bool(present) and all(not e & 1 for e in present) and len({e >> 1 for e in present}) == 1


def _cover_costs(ys: list[float], low: float, high: float) -> list[float]:
    length = high - low
    if not ys:
        return [0.0, length, 2 * length, _INF, _INF, _INF]
    gap = max((b - a for a, b in pairwise(ys)), default=None)
    return [
        _INF,
        length,
        2 * length,
        _INF if gap is None else 2 * (length - gap),
        2 * (ys[-1] - low),
        2 * (high - ys[0]),
    ]


def _positions(stops: list[Stop], layout: Layout) -> dict[int, list[list[float]]]:
    """aisle -> per block, the sorted distinct y of its picks."""
    by_aisle: dict[int, list[set[float]]] = {}
    for stop in stops:
        blocks = by_aisle.setdefault(stop.aisle, [set() for _ in range(layout.blocks)])
        blocks[layout.block_of(stop.bay)].add(layout.y(stop.bay))
    return {aisle: [sorted(ys) for ys in blocks] for aisle, blocks in by_aisle.items()}


def _steps(positions: dict[int, list[list[float]]], layout: Layout):
    """(aisle, step, option costs) in sweep order."""
    nodes = layout.blocks + 1
    first = min([*positions, layout.depot_aisle])
    last = max([*positions, layout.depot_aisle])
    pitch = layout.aisle_pitch_m
    across = [0.0, pitch, 2 * pitch]
    empty = [[] for _ in range(layout.blocks)]
    lines = layout.lines
    for aisle in range(first, last + 1):
        if aisle > first:
            for i in range(nodes):
                yield aisle, ("h", i), across
        if aisle == layout.depot_aisle:
            yield aisle, ("d",), (0.0,)
        blocks = positions.get(aisle, empty)
        for k in range(layout.blocks):
            ys = blocks[k]
            yield aisle, ("c", k, bool(ys)), _cover_costs(ys, lines[k], lines[k + 1])


def optimal_length(stops: list[Stop], layout: Layout) -> float:
    """Length in metres of a shortest tour from and back to the depot through the stops."""
    layout.check(stops)
    if not stops:
        return 0.0
    best: dict[State, float] = {(0,) * (layout.blocks + 1): 0.0}
    for _aisle, step, costs in _steps(_positions(stops, layout), layout):
        best = _relax(best, step, costs)
    return min(cost for state, cost in best.items() if is_final(state))


def optimal(stops: list[Stop], layout: Layout) -> tuple[list[Stop], float]:
    """(stops in walking order, length in metres) of a shortest tour from and back to the depot."""
    layout.check(stops)
    if not stops:
        return [], 0.0
    positions = _positions(stops, layout)
    best: dict[State, float] = {(0,) * (layout.blocks + 1): 0.0}
    trail: list[tuple[int, tuple, dict[State, tuple[State, int]]]] = []
    for aisle, step, costs in _steps(positions, layout):
        back: dict[State, tuple[State, int]] = {}
        best = _relax(best, step, costs, back)
        trail.append((aisle, step, back))
    final = min((s for s in best if is_final(s)), key=best.__getitem__)
    length = best[final]
    edges = _edges(final, trail, positions, layout)
    return _walk(stops, edges, layout), length


def _edges(final: State, trail, positions, layout: Layout) -> list[tuple[tuple, tuple]]:
    """The tour's multigraph, read back from the programme's choices."""
    edges: list[tuple[tuple, tuple]] = []
    state = final
    for aisle, step, back in reversed(trail):
        state, option = back[state]
        if step[0] == "h" and option:
            i = step[1]
            edges.extend([(("n", aisle - 1, i), ("n", aisle, i))] * option)
        elif step[0] == "c" and option != NONE:
            k = step[1]
            ys = positions.get(aisle, [[]] * layout.blocks)[k]
            chain = [("n", aisle, k), *(("p", aisle, y) for y in ys), ("n", aisle, k + 1)]
            segments = list(pairwise(chain))
            if option == TRAVERSE:
                chosen = [(s, 1) for s in segments]
            elif option == DOUBLE:
                chosen = [(s, 2) for s in segments]
            elif option == GAP:
                widest = max(range(len(ys) - 1), key=lambda j: ys[j + 1] - ys[j]) + 1
                chosen = [(s, 2) for j, s in enumerate(segments) if j != widest]
            elif option == FRONT:
                chosen = [(s, 2) for s in segments[:-1]]
            else:  # BACK
                chosen = [(s, 2) for s in segments[1:]]
            for (u, v), times in chosen:
                edges.extend([(u, v)] * times)
    return edges


def _walk(stops: list[Stop], edges: list[tuple[tuple, tuple]], layout: Layout) -> list[Stop]:
    """Stops in the order an Eulerian circuit of the tour, from the depot, first reaches them."""
    adjacency: dict[tuple, list[tuple[tuple, int]]] = {}
    for index, (u, v) in enumerate(edges):
        adjacency.setdefault(u, []).append((v, index))
        adjacency.setdefault(v, []).append((u, index))
    used = [False] * len(edges)
    # Hierholzer: the circuit is the reverse of the order nodes are popped.
    stack: list[tuple] = [("n", layout.depot_aisle, 0)]
    circuit: list[tuple] = []
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
        by_position.setdefault((stop.aisle, layout.y(stop.bay)), []).append(stop)
    ordered: list[Stop] = []
    for node in reversed(circuit):
        if node[0] == "p":
            ordered.extend(by_position.pop((node[1], node[2]), ()))
    return ordered


# Exact routing is used up to this many blocks. A 50-pick route on 10-20 aisles takes about
# 0.25 ms of CPU on one block, 0.75 ms on two and 11 ms on three, but 80 ms on four, 0.9 s on five
# and 6 s on six (bench/routing.py), so from four on the route is the best of the classic
# heuristics improved by local search (picking.heuristics): about 11 ms, within 0.1% of the
# optimum on average in the benchmark.
EXACT_MAX_BLOCKS = 3


def route(stops: list[Stop], layout: Layout) -> tuple[list[Stop], float]:
    """(stops in walking order, length in metres): exact up to EXACT_MAX_BLOCKS blocks, else heuristic."""
    if layout.blocks <= EXACT_MAX_BLOCKS:
        return optimal(stops, layout)
    return best_route(stops, layout)


def shortest_length(stops: list[Stop], layout: Layout) -> float:
    """The length in metres of `route`'s tour, without the walking order: `optimal_length` up to
    EXACT_MAX_BLOCKS blocks, else the heuristic route's (as pick lists walk it)."""
    if layout.blocks <= EXACT_MAX_BLOCKS:
        return optimal_length(stops, layout)
    return route(stops, layout)[1]
