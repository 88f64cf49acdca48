"""Clarke and Wright's savings for order batching, on every pair or on near neighbours.

The saving of two batches is d(a) + d(b) - d(a + b), d the exact route length (never negative:
one tour after the other is a tour of the union). C&W(ii) of de Koster, van der Poort and Wolters
(1999): repeatedly merge the pair with the largest saving whose union fits the cart, then
compute the savings of the merged batch with the remaining batches it fits with; stop when no
pair fits. Ties go to the lower ids (the given order first).

`merge` with ``partners=None`` is that, on every pair. Computed naively it is quadratic (1,000
orders: half a million route lengths); `merge` bounds every saving cheaply first (`_Bounds`) and
routes a pair only when its bound leads, which gives the same batches from about 20-50 route
lengths per order. Given ``partners`` (`neighbours`: each order's few nearest orders), it is the
granular version: the pairs are only those of neighbouring orders, and a merged batch is only
compared with the batches that hold a neighbour of one of its orders, so that the bounds too
are linear in the orders.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

import numpy as np

from picking.batching.problem import Problem, mask_keys
from picking.routing import BACK, FRONT, GAP, TRAVERSE

_SLACK = 1e-6  # keeps a bound above the saving it bounds through float rounding
_BOUND_S = 1.5e-8  # planned seconds of a bound per pair and sub-aisle
# Pairs judged exactly at a time (from a merged batch's list; 8 times as many from the first
# list): a call costs about as much as this many route lengths, so that fewer calls would judge
# many pairs for nothing and more calls would cost more than they save.
_CALL_S = 5e-4


class Partners:
    """A symmetric neighbour relation between orders, as compressed rows."""

    def __init__(self, count: int, first: np.ndarray, second: np.ndarray) -> None:
        a = np.concatenate([first, second])
        b = np.concatenate([second, first])
        keep = a != b
        a, b = a[keep], b[keep]
        pairs = np.unique(a * count + b)
        a, b = pairs // count, pairs % count
        self.start = np.searchsorted(a, np.arange(count + 1))
        self.of = b

    def __getitem__(self, order: int) -> np.ndarray:
        return self.of[self.start[order] : self.start[order + 1]]


def neighbours(problem: Problem, orders: Sequence[int], *, k: int) -> Partners:
    """Each order's near neighbours among ``orders``, by a cheap estimate of the saving.

    The estimate of merging a and b: the cross-aisle walk they share, twice the pitch times the
    overlap of their aisle spans (the depot's aisle included), plus per sub-aisle both visit the
    geometric mean of what covering it costs each alone (the cheapest of walking through it and
    in and back from either end). Orders with the same positions would fill each other's lists
    (a popular product makes dozens), so the estimate ranks the distinct position sets: each set
    gets its ``k`` best other sets, an order is linked to one order of each of those (spread over
    their orders by rank) and to the next few orders of its own set, and the relation is made
    symmetric."""
    p = problem
    orders = np.asarray(orders, dtype=np.int64)
    count = len(p.orders)
    if len(orders) < 2:
        return Partners(count, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    keys = mask_keys(p.masks[orders])
    index: dict = {}
    copies: list[list[int]] = []
    rank = np.empty(len(orders), dtype=np.int64)
    set_of = np.empty(len(orders), dtype=np.int64)
    for row, key in enumerate(keys):
        u = index.setdefault(key, len(copies))
        if u == len(copies):
            copies.append([])
        rank[row] = len(copies[u])
        set_of[row] = u
        copies[u].append(int(orders[row]))
    sets = len(copies)
    heads = np.array([c[0] for c in copies], dtype=np.int64)
    masks = p.masks[heads]
    aisles = np.arange(1, masks.shape[1] + 1)
    occupied = (masks != 0).any(axis=2).astype(bool)
    depot = p.layout.depot_aisle
    lo = np.minimum(np.where(occupied, aisles, np.iinfo(np.int64).max).min(axis=1), depot).astype(np.float64)
    hi = np.maximum(np.where(occupied, aisles, 0).max(axis=1), depot).astype(np.float64)
    if masks.dtype == object:
        cover = np.where((masks != 0).reshape(sets, -1), p.layout.bay_width_m * p.layout.bays, 0.0)
    else:
        covers = p.sweep.covers(masks)  # (aisles, blocks, 6, sets)
        alone = np.minimum(np.minimum(covers[:, :, TRAVERSE], covers[:, :, FRONT]), covers[:, :, BACK])
        cover = np.where(masks.transpose(1, 2, 0) != 0, alone, 0.0).reshape(-1, sets).T
    root = np.sqrt(cover)
    pitch2 = 2 * p.layout.aisle_pitch_m
    totes = p.totes[heads]
    take = min(k, sets - 1)
    chosen = np.full((sets, max(take, 0)), -1, dtype=np.int64)
    step = max(1, 4_000_000 // max(sets, 1))
    for start in range(0, sets if take > 0 else 0, step):
        rows = np.arange(start, min(start + step, sets))
        score = pitch2 * np.maximum(np.minimum(hi[rows, None], hi[None]) - np.maximum(lo[rows, None], lo[None]), 0)
        score += root[rows] @ root.T
        score[np.arange(len(rows)), rows] = -np.inf
        score[totes[rows, None] + totes[None] > p.cart.totes] = -np.inf
        part = np.argpartition(-score, take - 1, axis=1)[:, :take]
        good = np.take_along_axis(score, part, axis=1) > -np.inf
        chosen[rows] = np.where(good, part, -1)
    first: list[np.ndarray] = []
    second: list[np.ndarray] = []
    sizes = np.array([len(c) for c in copies], dtype=np.int64)
    flat = np.array([o for c in copies for o in c], dtype=np.int64)
    offset = np.r_[0, np.cumsum(sizes)[:-1]]
    if take > 0:
        v = chosen[set_of]  # (orders, take)
        valid = v >= 0
        v = np.where(valid, v, 0)
        partner = flat[offset[v] + rank[:, None] % sizes[v]]
        first.append(np.repeat(orders, take)[valid.ravel()])
        second.append(partner[valid])
    band = max(1, p.cart.totes)
    for d in range(1, band + 1):
        later = rank + d < sizes[set_of]
        first.append(orders[later])
        second.append(flat[offset[set_of[later]] + rank[later] + d])
    return Partners(count, np.concatenate(first), np.concatenate(second))


class _Bounds:
    """What an upper bound on the savings of a batch needs, per batch: d(a) + d(b) - d(a + b)
    is at most d(a) + d(b) minus a lower bound on d(a + b), and a tour walks at least

    - across the aisles: twice the pitch from the leftmost to the rightmost aisle it visits
      (the depot's included), and
    - along them, in each block: the larger of the sum, over the block's sub-aisles with picks,
      of the cheapest cover of each (through it, in and back from either end, or from both ends
      leaving out its largest gap), and twice the part of the block it must cross to reach its
      deepest pick (up and back). The cheapest cover of a union is at least the larger of the
      two parts' (adding picks never makes a cover cheaper).

    On the benchmark's orders the bound is within 1-6 m of the saving for half of the pairs."""

    def __init__(self, problem: Problem, capacity: int) -> None:
        self.p = problem
        self.exact = problem.masks.dtype != object
        sub = problem.masks.shape[1] * problem.masks.shape[2]
        self.lo = np.zeros(capacity)
        self.hi = np.zeros(capacity)
        self.deep = np.zeros(capacity)
        self.cover = np.zeros((capacity, sub if self.exact else 0))
        self.blocks = problem.layout.blocks
        self.total = np.zeros((capacity, self.blocks))  # per block
        lines = problem.layout.lines
        self.line = np.array(lines[:-1])
        self.depth = np.array([b - a for a, b in zip(lines, lines[1:], strict=False)])

    def set(self, ids, masks: np.ndarray) -> None:
        if not self.exact:
            return
        p = self.p
        covers = p.sweep.covers(masks)  # (aisles, blocks, 6, N)
        picks = masks.transpose(1, 2, 0) != 0
        cheapest = np.min(covers[:, :, [TRAVERSE, GAP, FRONT, BACK]], axis=2)
        cheapest = np.where(picks, cheapest, 0.0)
        self.cover[ids] = cheapest.reshape(-1, len(masks)).T
        self.total[ids] = self.cover[ids].reshape(len(masks), -1, self.blocks).sum(axis=1)
        # FRONT is twice the last pick's depth inside its block.
        self.deep[ids] = np.where(picks, covers[:, :, FRONT] / 2 + self.line[None, :, None], 0.0).max(axis=(0, 1))
        aisles = np.arange(1, masks.shape[1] + 1)[:, None]
        occupied = picks.any(axis=1)
        depot = p.layout.depot_aisle
        self.lo[ids] = np.minimum(np.where(occupied, aisles, depot).min(axis=0), depot)
        self.hi[ids] = np.maximum(np.where(occupied, aisles, depot).max(axis=0), depot)

    def set_one(self, k: int, mask: np.ndarray) -> None:
        """As `set` for one batch: plain integers, a tenth of the time of numpy on one row."""
        if not self.exact:
            return
        layout = self.p.layout
        w = layout.bay_width_m
        lines = layout.lines
        blocks = layout.blocks
        cover = [0.0] * (mask.shape[0] * blocks)
        deep = 0.0
        lo = hi = layout.depot_aisle
        for at, bits in enumerate(mask.ravel().tolist()):
            if not bits:
                continue
            aisle, block = divmod(at, blocks)
            lo, hi = min(lo, aisle + 1), max(hi, aisle + 1)
            length = lines[block + 1] - lines[block]
            first = (bits & -bits).bit_length() - 1
            last = bits.bit_length() - 1
            widest, rest, previous = 0, bits ^ (1 << first), first
            while rest:
                here = (rest & -rest).bit_length() - 1
                widest = max(widest, here - previous)
                previous, rest = here, rest ^ (1 << here)
            cheapest = min(length, 2 * (last + 0.5) * w, 2 * (length - (first + 0.5) * w))
            if widest:
                cheapest = min(cheapest, 2 * (length - widest * w))
            cover[at] = cheapest
            deep = max(deep, (last + 0.5) * w + lines[block])
        self.cover[k] = cover
        self.total[k] = self.cover[k].reshape(-1, blocks).sum(axis=0)
        self.deep[k], self.lo[k], self.hi[k] = deep, lo, hi

    def upper(self, a: np.ndarray, b: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        if not self.exact:
            return np.minimum(lengths[a], lengths[b]) + _SLACK
        p = self.p
        p.work += 2e-5 + _BOUND_S * len(a) * self.cover.shape[1]
        across = 2 * p.layout.aisle_pitch_m * (np.maximum(self.hi[a], self.hi[b]) - np.minimum(self.lo[a], self.lo[b]))
        shared = np.minimum(self.cover[a], self.cover[b]).reshape(len(a), -1, self.blocks).sum(axis=1)
        covers = self.total[a] + self.total[b] - shared  # (pairs, blocks)
        deep = np.maximum(self.deep[a], self.deep[b])
        crossed = 2 * np.clip(deep[:, None] - self.line[None], 0.0, self.depth[None])
        along = np.maximum(covers, crossed).sum(axis=1)
        return lengths[a] + lengths[b] - across - along + _SLACK


def _first_alive(ok, at: int, size: int) -> int:
    """The first position from ``at`` where ``ok(slice)`` holds, scanning in steps of 64."""
    while at < size:
        hit = np.flatnonzero(ok(slice(at, at + 64)))
        if len(hit):
            return at + int(hit[0])
        at += 64
    return size


def _take_alive(ok, at: int, size: int, want: int) -> tuple[np.ndarray, int]:
    """Up to ``want`` positions from ``at`` where ``ok`` holds, and where the scan stopped."""
    found: list[np.ndarray] = []
    have = 0
    width = max(want, 64)
    while at < size and have < want:
        window = slice(at, min(at + width, size))
        hit = np.flatnonzero(ok(window)) + at
        if have + len(hit) > want:
            hit = hit[: want - have]
            at = int(hit[-1]) + 1
        else:
            at = window.stop
        found.append(hit)
        have += len(hit)
        width *= 2
    return (np.concatenate(found) if found else np.zeros(0, dtype=np.int64)), at


def merge(
    problem: Problem, items: Sequence[Sequence[int]], partners: Partners | None = None, *, stop_at: int = 0
) -> list[list[int]]:
    """C&W(ii) from these batches (lists of order indices; usually single orders), on every pair
    (``partners=None``) or on neighbouring orders' batches only. Returns the batches.

    The savings are judged lazily: every candidate pair gets a cheap upper bound (`_Bounds`),
    and a pair's exact saving is only computed when its bound is the largest left, so the
    pairs of orders that merge with someone else first are never routed. The result is the
    same as computing every saving first (the largest exact saving is taken when no bound
    exceeds it; ties go to the lower ids either way); on the benchmark's 1,000 orders it routes
    about a twentieth of the pairs. Identical unions are computed once. ``stop_at``: stop when
    that few batches are left."""
    p = problem
    items = [tuple(item) for item in items]
    count = len(items)
    capacity = 2 * count
    masks = np.zeros((capacity, *p.masks.shape[1:]), dtype=p.masks.dtype)
    lengths = np.zeros(capacity)
    totes = np.zeros(capacity, dtype=np.int64)
    volume = np.zeros(capacity)
    lines = np.zeros(capacity, dtype=np.int64)
    alive = np.zeros(capacity, dtype=bool)
    where = np.full(len(p.orders), -1, dtype=np.int64)  # order -> its batch
    bounds = _Bounds(p, capacity)
    # Batch ids 0..count-1 are the items; merges get the next ids.
    members: list[tuple[int, ...]] = list(items)
    for i, item in enumerate(members):
        masks[i] = p.union(item)
        totes[i] = p.totes[list(item)].sum()
        volume[i] = p.volume[list(item)].sum()
        lines[i] = p.lines[list(item)].sum()
        where[list(item)] = i
    lengths[:count] = p.lengths(masks[:count])
    bounds.set(np.arange(count), masks[:count])
    alive[:count] = True

    if partners is None:
        first, second = (x.astype(np.int64) for x in np.triu_indices(count, k=1))
    else:
        orders = np.array([o for item in items for o in item], dtype=np.int64)
        spans = [partners[int(o)] for o in orders]
        a = where[np.repeat(orders, [len(s) for s in spans])]
        b = where[np.concatenate(spans)] if spans else np.zeros(0, dtype=np.int64)
        keep = (b >= 0) & (a < b)
        pairs = np.unique(a[keep] * capacity + b[keep])
        first, second = pairs // capacity, pairs % capacity
    ok = p.fits(totes[first] + totes[second], volume[first] + volume[second], lines[first] + lines[second])
    first, second = first[ok], second[ok]
    bound = np.empty(len(first))
    for start in range(0, len(first), 65536):
        part = slice(start, start + 65536)
        bound[part] = bounds.upper(first[part], second[part], lengths)
    order = np.lexsort((second, first, -bound))
    bound, first, second = bound[order], first[order], second[order]
    chunk = int(np.clip(round(_CALL_S / p.eval_cost), 4, 64))
    pointer = 0
    judged: list[tuple[float, int, int, float]] = []  # exact savings: (-saving, a, b, union length)
    # Per merged batch: its pairs with the batches alive at the merge, by bound; a heap holds
    # the head of each such list.
    lists: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    heads: dict[int, int] = {}
    heap: list[tuple[float, int, int, int]] = []

    def judge(a: np.ndarray, b: np.ndarray) -> None:
        p.work += 1e-4
        union = p.lengths(masks[a] | masks[b], cache=False)
        gain = lengths[a] + lengths[b] - union
        for g, x, y, u in zip((-gain).tolist(), a.tolist(), b.tolist(), union.tolist(), strict=True):
            heapq.heappush(judged, (g, min(x, y), max(x, y), u))

    def push_head(k: int) -> None:
        gains, others = lists[k]
        at = heads[k]
        if at < len(others) and not alive[others[at]]:
            at = _first_alive(lambda s: alive[others[s]], at, len(others))
        heads[k] = at
        if at < len(others):
            other = int(others[at])
            heapq.heappush(heap, (-float(gains[at]), min(k, other), max(k, other), k))

    def best() -> tuple[int, int, float] | None:
        """The live pair with the largest saving that fits, taken off its list."""
        nonlocal pointer
        while True:
            if pointer < len(bound) and not (alive[first[pointer]] and alive[second[pointer]]):
                pointer = _first_alive(lambda s: alive[first[s]] & alive[second[s]], pointer, len(bound))
            while judged and not (alive[judged[0][1]] and alive[judged[0][2]]):
                heapq.heappop(judged)
            while heap and not (alive[heap[0][3]] and alive[heap[0][1]] and alive[heap[0][2]]):
                k = heapq.heappop(heap)[3]
                if alive[k]:
                    push_head(k)
            keys = []
            if judged:
                keys.append((judged[0][:3], 0))
            if pointer < len(bound):
                keys.append(((-float(bound[pointer]), int(first[pointer]), int(second[pointer])), 1))
            if heap:
                keys.append((heap[0][:3], 2))
            if not keys:
                return None
            source = min(keys)[1]
            if source == 0:
                _, a, b, union = heapq.heappop(judged)
                if p.fits_exactly([*members[a], *members[b]]):
                    return a, b, union
            elif source == 1:
                rows, pointer = _take_alive(
                    lambda s: alive[first[s]] & alive[second[s]], pointer, len(bound), 8 * chunk
                )
                judge(first[rows], second[rows])
            else:
                k = heapq.heappop(heap)[3]
                _, others = lists[k]
                rows, heads[k] = _take_alive(lambda s: alive[others[s]], heads[k], len(others), chunk)  # noqa: B023
                judge(np.full(len(rows), k, dtype=np.int64), others[rows])
                push_head(k)

    live = count
    while live > stop_at:
        entry = best()
        if entry is None:
            break
        live -= 1
        p.work += 3e-4
        a, b, length = entry
        alive[a] = alive[b] = False
        k = len(members)
        members.append(tuple(sorted(members[a] + members[b])))
        where[list(members[k])] = k
        masks[k] = masks[a] | masks[b]
        lengths[k] = length
        totes[k] = totes[a] + totes[b]
        volume[k] = volume[a] + volume[b]
        lines[k] = lines[a] + lines[b]
        bounds.set_one(k, masks[k])
        if partners is None:
            others = np.flatnonzero(alive[:k])
        else:
            near = where[np.concatenate([partners[o] for o in members[k]])]
            others = np.unique(near[near >= 0])
            others = others[alive[others]]
        alive[k] = True
        others = others[p.fits(totes[k] + totes[others], volume[k] + volume[others], lines[k] + lines[others])]
        if not len(others):
            continue
        gains = bounds.upper(np.full(len(others), k, dtype=np.int64), others, lengths)
        order = np.lexsort((others, -gains))
        lists[k] = (gains[order], others[order])
        heads[k] = 0
        push_head(k)
    return [list(members[i]) for i in range(len(members)) if alive[i]]
