"""Which orders share a cart: order batching to minimise the total route length.

An order needs one or more totes (its volume over a tote's); a cart holds ``Cart.totes`` totes
and, when set, at most ``volume_l`` litres and ``lines`` order lines. The length of a batch is
the length of the shortest route through all its orders' stops (picking.routing).

- `fcfs`: first come, first served: orders in the given (priority) order fill carts one by one.
- `clarke_wright`: the savings algorithm C&W(ii) of de Koster, van der Poort and Wolters (1999)
  on every pair of orders, the classic baseline.
- `batch`: the batching the planner uses: the same savings (between near neighbours when the
  effort does not allow every pair), then local search (relocations, swaps, emptying part-full
  carts, iterated local search) with exact route lengths, within a planned effort.
- `batch_length`, `total_length`: the route length of one batch, and summed over a batching.

Every batching returned here holds every order exactly once, and no batch breaks `Cart.fits`,
except that an order which alone does not fit the cart gets a batch of its own. An order with no
stops (nothing on the grid) walks nothing and goes wherever a tote is free.

The parts: `lengths` (exact route lengths of thousands of carts at once, routing's programme
compiled for numpy), `problem` (the orders as bit masks, the length cache, the count of work),
`savings` (C&W on every pair or on neighbours), `search` (the local search).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from picking.batching.lengths import Sweep
from picking.batching.problem import BatchOrder, Cart, Problem
from picking.batching.savings import merge, neighbours
from picking.batching.search import Search
from picking.geometry import Layout
from picking.routing import shortest_length

__all__ = ["BatchOrder", "Cart", "batch", "batch_length", "clarke_wright", "fcfs", "total_length"]

_SEED = 20261201
_NEAREST = 24  # neighbour position sets per position set in the savings on neighbours
_EVERY_PAIR = 2000  # orders up to which the savings may look at every pair (memory: n^2 / 2 bounds)
_DISSOLVE_SHARE = 0.2  # of the effort left, at most, for emptying part-full carts
# Planned cost per order of the savings on every pair: route lengths judged, and the rest.
_EXACT_LENGTHS = 30
_MERGE_S = 5e-4


def batch_length(orders: Sequence[BatchOrder], layout: Layout) -> float:
    """The route length of one cart (`routing.shortest_length`): the optimum up to EXACT_MAX_BLOCKS
    blocks, past that routing's heuristic route, as pick lists walk it."""
    return shortest_length([s for o in orders for s in o.stops], layout)


def total_length(batches: Sequence[Sequence[BatchOrder]], layout: Layout) -> float:
    """The summed `batch_length` of the batches, computed in bulk where routing is exact."""
    stop_lists = [[s for o in b for s in o.stops] for b in batches]
    stop_lists = [stops for stops in stop_lists if stops]
    if not stop_lists:
        return 0.0
    for stops in stop_lists:
        layout.check(stops)
    sweep = Sweep(layout, max([layout.depot_aisle, *(s.aisle for stops in stop_lists for s in stops)]))
    if not sweep.vector:
        return sum(batch_length(b, layout) for b in batches)
    return float(sweep.lengths(sweep.masks(stop_lists)).sum())


def fcfs(orders: Sequence[BatchOrder], cart: Cart) -> list[list[BatchOrder]]:
    """Carts filled in the orders' sequence; an order that does not fit starts the next cart."""
    batches: list[list[BatchOrder]] = []
    current: list[BatchOrder] = []
    for order in orders:
        if current and not cart.fits([*current, order]):
            batches.append(current)
            current = []
        current.append(order)
    if current:
        batches.append(current)
    return batches


def _as_batches(orders: Sequence[BatchOrder], groups: Sequence[Sequence[int]]) -> list[list[BatchOrder]]:
    """Batches in the order of their first order (the priority order), each in the orders' order."""
    ordered = sorted((sorted(g) for g in groups if g), key=lambda g: g[0])
    return [[orders[i] for i in g] for g in ordered]


def clarke_wright(orders: Sequence[BatchOrder], cart: Cart, layout: Layout) -> list[list[BatchOrder]]:
    """Clarke and Wright's savings, variant C&W(ii) of de Koster, van der Poort and Wolters (1999).

    Variant (ii) recomputes the savings between a merged batch and every other batch, where (i)
    keeps the savings of the single orders; (ii) is the stronger of the two, and the baseline to
    beat. The savings use exact route lengths, of every pair of orders; `savings.merge` routes
    only the pairs whose bound on the saving leads, for the same batches (1,000 orders: about
    30,000 route lengths instead of half a million), but its bounds stay quadratic in the orders.
    """
    if not orders:
        return []
    problem = Problem(orders, cart, layout)
    return _as_batches(orders, merge(problem, [[i] for i in range(len(orders))]))


def _construct(problem: Problem, orders: list[int], seconds: float) -> list[list[int]]:
    """C&W(ii) savings on every pair when that fits in ``seconds`` of planned work; else first on
    near neighbours only (`savings.neighbours`), down to as many batches as the savings on every
    pair can then afford in half of ``seconds`` (at most ``_EVERY_PAIR``), and from there on
    every pair of those batches. The neighbours find the obvious merges of the many small
    batches at the start; the late merges, of part-full batches whose neighbours are all in
    full carts already, need every pair.

    The savings route a pair only when its bound leads (`savings.merge`): exactly C&W(ii) at
    about 20-50 route lengths per order; on neighbours about half that. On the benchmark's
    5,000 orders the two phases are 1% longer than every pair, which takes 15-25 s there."""
    p = problem
    per_order = _EXACT_LENGTHS * p.eval_cost + _MERGE_S
    if len(orders) <= _EVERY_PAIR and len(orders) * per_order <= seconds:
        return merge(p, [[o] for o in orders])
    last = min(_EVERY_PAIR, int(0.5 * seconds / per_order))
    built = merge(p, [[o] for o in orders], neighbours(p, orders, k=_NEAREST), stop_at=max(last, 1))
    return merge(p, built) if len(built) > 1 else built


def batch(
    orders: Sequence[BatchOrder],
    cart: Cart,
    layout: Layout,
    *,
    time_budget_s: float | None = 2.0,
    effort_s: float | None = None,
    trace: list | None = None,
) -> list[list[BatchOrder]]:
    """The planner's batching: savings, then local search, within about ``time_budget_s``.

    1. C&W(ii) savings builds the batches: on every pair of orders when that fits in 90% of the
       effort (`_construct`; up to 2,000 orders), else first between near neighbours
       (`savings.neighbours`), then on every pair of the batches left.
    2. Descent: relocate or swap orders between neighbouring batches while the total shortens.
    3. `Search.dissolve`: empty the part-full carts that savings left, where that is shorter.
    4. Iterated local search (`Search.ils_round`) for the rest of the effort, then descent.
    Steps 2 to 4 only ever shorten the total, so when step 1 ran on every pair the result is
    never longer than `clarke_wright`'s (and, after the descent, almost always shorter).

    Every order is in exactly one batch and no batch breaks ``cart.fits``, except that an order
    which alone does not fit the cart gets a batch of its own. Orders with no stops (nothing on
    the grid) walk nothing and fill free totes, in the batches of the highest-priority orders
    first. Batches come in the order of their first order, orders in the given order.

    Deterministic: the work is planned (``effort_s`` seconds, by default the time budget, or 2
    without one) and counted in fixed costs per route-length move, per call and per search step
    (`Problem.work`) instead of by the clock, so the same input gives the same batching on any
    machine; the clock (``time_budget_s``; None: no limit) only stops the search early when the
    machine is much slower or busier than planned for. The savings always run whole, so a budget
    smaller than they take gives their batching.

    ``trace``, when a list, gets (step, total length of the batches with stops, planned work so
    far) after each step: what each step buys, for the benchmark.
    """
    if not orders:
        return []
    if (time_budget_s is not None and time_budget_s <= 0) or (effort_s is not None and effort_s <= 0):
        raise ValueError("time_budget_s and effort_s must be positive")
    budget = float(effort_s if effort_s is not None else time_budget_s if time_budget_s is not None else 2.0)
    deadline = None if time_budget_s is None else time.monotonic() + float(time_budget_s)
    problem = Problem(orders, cart, layout)
    alone = [i for i, o in enumerate(problem.orders) if not cart.fits([o])]
    skip = set(alone)
    stopless = [i for i, o in enumerate(problem.orders) if not o.stops and i not in skip]
    skip.update(stopless)
    rest = [i for i in range(len(orders)) if i not in skip]
    result: list[list[int]] = []
    if rest:
        built = _construct(problem, rest, 0.9 * budget)
        search = Search(problem, built, deadline=deadline, limit=0.95 * budget)

        def note(step: str) -> None:
            if trace is not None:
                trace.append((step, search.total(), problem.work))

        note("savings")
        search.descend()
        note("descent")
        # Emptying a part-full cart rarely pays on large inputs and can take long: a fifth of
        # what is left at most.
        search.limit = problem.work + _DISSOLVE_SHARE * max(0.85 * budget - problem.work, 0.0)
        search.dissolve()
        note("emptying part-full carts")
        search.limit = 0.95 * budget
        rng = np.random.default_rng(_SEED)
        rounds = stalled = 0
        # Small inputs run out of kicks worth trying long before the budget: stop after a
        # stretch of rounds that kept nothing.
        patience = max(100, 10 * len(search.live()))
        while len(search.live()) > 1 and problem.work < 0.85 * budget and not search.out_of_time():
            stalled = 0 if search.ils_round(rng) else stalled + 1
            if stalled >= patience:
                break
            rounds += 1
            if rounds % 32 == 0:
                search.find_neighbours(search.live())
        search.descend()
        note("iterated local search")
        result = [list(m) for m in search.members if m]
    # Orders with no stops fill free totes, first the batches of the highest-priority orders.
    for i in stopless:
        for members in sorted(result, key=min):
            if problem.fits_exactly([*members, i]):
                members.append(i)
                break
        else:
            result.append([i])
    result.extend([i] for i in alone)
    return _as_batches(orders, result)
