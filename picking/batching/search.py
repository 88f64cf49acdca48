"""Local search over a batching, with exact route lengths.

The moves: relocate one order to another batch, or swap two orders between two batches, each
judged by the exact change of the two route lengths. Moves are only tried between neighbouring
batches: a batch's neighbours are the few whose union with it saves the most (they work the
same aisles). Swaps are screened first: the cost of swapping o (of a) for q (of b) is estimated
as ins(q, a) - gain(o) + ins(o, b) - gain(q), where ins(x, c) is what adding x to batch c
costs and gain(x) what taking x out of its batch saves. That is exact when the two orders'
picks do not interact, and on the benchmark's instances the best swap of a pair is among the
four best estimates nine times in ten; those four are judged exactly.

Descent keeps the best move of every neighbouring pair in a table and applies the best
non-overlapping improving ones each round, re-evaluating only the pairs whose batches changed.
`Search.dissolve` then tries to do without each part-full cart. Iterated local search repeats:
a few random swaps among a random batch and its neighbours (the kick), descent from the batches
they changed, and back to the batching before the kick unless the total got shorter; each round
kicks in many places at once, far enough apart to be judged separately, so that the route
lengths of all of them are computed together.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from picking.batching.lengths import INF
from picking.batching.problem import Problem

_NEIGHBOURS = 6
_SWAPS = 4  # swaps per pair of batches judged exactly, the best by estimate
_EPS = 1e-9


class Search:
    def __init__(
        self, problem: Problem, groups: Sequence[Sequence[int]], *, deadline: float | None, limit: float = INF
    ) -> None:
        self.p = problem
        self.deadline = deadline
        self.limit = limit  # planned work (problem.work) after which the search stops
        n = len(problem.orders)
        self.members: list[list[int]] = [sorted(g) for g in groups if g]
        nb = len(self.members)
        self.bmask = np.zeros((nb, *problem.masks.shape[1:]), dtype=problem.masks.dtype)
        self.blen = np.zeros(nb)
        self.btotes = np.zeros(nb, dtype=np.int64)
        self.bvolume = np.zeros(nb)
        self.blines = np.zeros(nb, dtype=np.int64)
        self.slots = np.full((nb, max([1, *map(len, self.members)])), -1, dtype=np.int64)  # members, -1 padded
        self.rem = np.zeros_like(problem.masks)  # each order's batch without it
        self.remlen = np.zeros(n)
        self.neighbours: list[list[int]] = [[] for _ in range(nb)]
        self.named_by: list[set[int]] = [set() for _ in range(nb)]  # the batches that list b as a neighbour
        self.table: dict[tuple[int, int], tuple] = {}
        self.table_of: list[set[tuple[int, int]]] = [set() for _ in range(nb)]
        # While a round of iterated local search runs: batch -> (members, length) before it, and
        # the pairs of batches that exchanged orders.
        self.undo: dict[int, tuple[list[int], float]] | None = None
        self.links: list[tuple[int, int]] = []
        self.refresh(range(nb))
        self.find_neighbours(range(nb))

    def out_of_time(self) -> bool:
        return self.p.work > self.limit or (self.deadline is not None and time.monotonic() > self.deadline)

    def total(self) -> float:
        return float(self.blen.sum())

    def live(self) -> list[int]:
        return [b for b, m in enumerate(self.members) if m]

    def refresh(self, batches) -> None:
        """Recompute masks, lengths, capacities and removal masks of these batches."""
        batches = sorted(set(batches))
        p = self.p
        p.work += 1e-4 + 2.5e-5 * len(batches)
        widest = max(len(self.members[b]) for b in batches) if batches else 0
        if widest > self.slots.shape[1]:
            grown = np.full((len(self.members), widest), -1, dtype=np.int64)
            grown[:, : self.slots.shape[1]] = self.slots
            self.slots = grown
        for b in batches:
            m = self.members[b]
            self.slots[b] = -1
            self.slots[b, : len(m)] = m
            if m:
                stack = p.masks[m]
                self.bmask[b] = np.bitwise_or.reduce(stack, axis=0)
                before = np.bitwise_or.accumulate(stack, axis=0)
                after = np.bitwise_or.accumulate(stack[::-1], axis=0)[::-1]
                rem = np.zeros_like(stack)
                rem[1:] |= before[:-1]
                rem[:-1] |= after[1:]
                self.rem[m] = rem
            else:
                self.bmask[b] = 0
            self.btotes[b] = p.totes[m].sum()
            self.bvolume[b] = p.volume[m].sum()
            self.blines[b] = p.lines[m].sum()
        changed = [o for b in batches for o in self.members[b]]
        found = p.lengths(np.concatenate([self.bmask[batches], self.rem[changed]]))
        self.blen[batches] = found[: len(batches)]
        self.remlen[changed] = found[len(batches) :]

    # -- neighbours -------------------------------------------------------------------------

    def find_neighbours(self, batches) -> None:
        """Each batch's neighbours: the batches whose union with it saves the most route."""
        live = np.array(self.live(), dtype=np.int64)
        asks: list[tuple[int, np.ndarray]] = []
        occupied = (self.bmask[live] != 0).reshape(len(live), -1).astype(np.float64)
        position = np.full(len(self.members), -1)
        position[live] = np.arange(len(live))
        shortlist = 3 * _NEIGHBOURS
        for b in sorted(set(batches)):
            for other in self.neighbours[b]:
                self.named_by[other].discard(b)
            self.neighbours[b] = []
            if not self.members[b]:
                continue
            others = live[live != b]
            if len(others) > shortlist:
                # Shared sub-aisles narrow the field before any route is computed.
                shared = occupied[position[others]] @ occupied[position[b]]
                others = others[np.lexsort((others, -shared))[:shortlist]]
            if len(others):
                asks.append((b, others))
        if not asks:
            return
        found = self.p.lengths(np.concatenate([self.bmask[others] | self.bmask[b] for b, others in asks]))
        at = 0
        for b, others in asks:
            union = found[at : at + len(others)]
            at += len(others)
            saving = self.blen[b] + self.blen[others] - union
            self.neighbours[b] = others[np.lexsort((others, -saving))[:_NEIGHBOURS]].tolist()
            for other in self.neighbours[b]:
                self.named_by[other].add(b)

    def pairs_of(self, batches) -> set[tuple[int, int]]:
        pairs = set()
        for a in batches:
            if not self.members[a]:
                continue
            for b in (*self.neighbours[a], *self.named_by[a]):
                if self.members[b]:
                    pairs.add((min(a, b), max(a, b)))
        return pairs

    # -- moves --------------------------------------------------------------------------------

    def moves_of(self, pairs: Sequence[tuple[int, int]]) -> tuple[np.ndarray, ...]:
        """The moves between each pair worth an exact look: every relocation that fits, and the
        swaps that fit with the best estimates. Returns (pair index, from, to, order, order back
        or -1, exact change in length)."""
        p = self.p
        p.work += 3e-4 + 2.5e-5 * len(pairs)
        pa = np.array([a for a, _ in pairs], dtype=np.int64)
        pb = np.array([b for _, b in pairs], dtype=np.int64)
        width = self.slots.shape[1]
        sa, sb = self.slots[pa], self.slots[pb]  # (pairs, width)
        # Each order of a into b, then each order of b into a: (pairs, 2, width).
        order = np.stack([sa, sb], axis=1)
        home = np.stack([np.repeat(pa[:, None], width, 1), np.repeat(pb[:, None], width, 1)], axis=1)
        away = np.stack([np.repeat(pb[:, None], width, 1), np.repeat(pa[:, None], width, 1)], axis=1)
        real = order >= 0
        o = np.where(real, order, 0)
        insert = np.full(order.shape, INF)
        insert[real] = p.lengths(self.bmask[away[real]] | p.masks[o[real]]) - self.blen[away[real]]
        gain = self.blen[home] - self.remlen[o]
        fits = real & p.fits(
            self.btotes[away] + p.totes[o], self.bvolume[away] + p.volume[o], self.blines[away] + p.lines[o]
        )
        relocate = np.where(fits, insert - gain, INF)
        # Swaps (o of a, q of b): (pairs, width, width), estimated, the best few per pair kept.
        oa, qb = o[:, 0, :, None], o[:, 1, None, :]
        both = real[:, 0, :, None] & real[:, 1, None, :]
        ta, tb = pa[:, None, None], pb[:, None, None]
        fit_swap = (
            both
            & p.fits(
                self.btotes[tb] + p.totes[oa] - p.totes[qb],
                self.bvolume[tb] + p.volume[oa] - p.volume[qb],
                self.blines[tb] + p.lines[oa] - p.lines[qb],
            )
            & p.fits(
                self.btotes[ta] - p.totes[oa] + p.totes[qb],
                self.bvolume[ta] - p.volume[oa] + p.volume[qb],
                self.blines[ta] - p.lines[oa] + p.lines[qb],
            )
        )
        estimate = (insert[:, 0, :, None] - gain[:, 0, :, None]) + (insert[:, 1, None, :] - gain[:, 1, None, :])
        estimate = np.where(fit_swap, estimate, INF).reshape(len(pairs), -1)
        keep = np.argsort(estimate, axis=1, kind="stable")[:, : min(_SWAPS, width * width)]
        chosen = np.take_along_axis(estimate, keep, axis=1) < INF
        rows = np.repeat(np.arange(len(pairs))[:, None], keep.shape[1], 1)[chosen]
        cells = keep[chosen]
        so = sa[rows, cells // width]
        sq = sb[rows, cells % width]
        found = p.lengths(np.concatenate([self.rem[so] | p.masks[sq], self.rem[sq] | p.masks[so]]))
        swap = found[: len(so)] + found[len(so) :] - self.blen[pa[rows]] - self.blen[pb[rows]]
        ids = np.broadcast_to(np.arange(len(pairs))[:, None, None], order.shape)
        return (
            np.concatenate([ids[fits], rows]),
            np.concatenate([home[fits], pa[rows]]),
            np.concatenate([away[fits], pb[rows]]),
            np.concatenate([order[fits], so]),
            np.concatenate([np.full(int(fits.sum()), -1), sq]),
            np.concatenate([relocate[fits], swap]),
        )

    def evaluate_pairs(self, pairs: Sequence[tuple[int, int]]) -> None:
        """The best move of each pair into the table."""
        if not pairs:
            return
        ids, src, dst, oo, qq, delta = self.moves_of(pairs)
        for pair in pairs:
            self.table[pair] = (INF, -1, -1, -1, -1)
            self.table_of[pair[0]].add(pair)
            self.table_of[pair[1]].add(pair)
        if not len(ids):
            return
        order = np.lexsort((qq, oo, dst, src, delta, ids))
        firsts = order[np.r_[True, ids[order][1:] != ids[order][:-1]]]
        for row in firsts.tolist():
            self.table[pairs[int(ids[row])]] = (
                float(delta[row]),
                int(src[row]),
                int(dst[row]),
                int(oo[row]),
                int(qq[row]),
            )

    def _restore(self, undo: dict[int, tuple[list[int], float]], batches) -> None:
        """Put these batches back to their members in ``undo`` (as before the round), and refresh them."""
        for b in batches:
            self.members[b] = undo[b][0]
        self.refresh(batches)
        self.forget(batches)

    def forget(self, batches) -> None:
        for b in batches:
            for pair in list(self.table_of[b]):
                self.table.pop(pair, None)
                self.table_of[pair[0]].discard(pair)
                self.table_of[pair[1]].discard(pair)

    def apply(self, a: int, b: int, o: int, q: int) -> bool:
        """Order o from a to b and (q >= 0) order q from b to a, when both carts still fit exactly."""
        new_a = [x for x in self.members[a] if x != o] + ([q] if q >= 0 else [])
        new_b = [x for x in self.members[b] if x != q] + [o]
        if (new_a and not self.p.fits_exactly(new_a)) or not self.p.fits_exactly(new_b):
            return False
        if self.undo is not None:
            self.undo.setdefault(a, (list(self.members[a]), float(self.blen[a])))
            self.undo.setdefault(b, (list(self.members[b]), float(self.blen[b])))
            self.links.append((a, b))
        self.members[a] = sorted(new_a)
        self.members[b] = sorted(new_b)
        return True

    # -- descent and iterated local search ----------------------------------------------------

    def descend(self, dirty=None) -> None:
        """Apply improving moves until there are none, starting from the pairs of these batches
        (all when None)."""
        dirty = set(self.live()) if dirty is None else set(dirty)
        while dirty and not self.out_of_time():
            self.evaluate_pairs(sorted(self.pairs_of(dirty) - set(self.table)))
            improving = sorted((entry, pair) for pair, entry in self.table.items() if entry[0] < -_EPS)
            touched: set[int] = set()
            for (_, a, b, o, q), _pair in improving:
                if a not in touched and b not in touched and self.apply(a, b, o, q):
                    touched.update((a, b))
            if not touched:
                break
            self.refresh(touched)
            self.forget(touched)
            dirty = touched

    def empty(self, x: int) -> set[int]:
        """Try to do without batch x: its orders one by one to the batches where adding them costs
        least (among those with room), then descent from every batch that changed; kept only if
        the total got shorter.

        Savings leaves some carts part-full (two batches of six cannot share a cart of eight),
        and emptying one takes several relocations that each look worse on their own, so
        descent alone never finds it."""
        p = self.p
        members = list(self.members[x])
        others = np.array([b for b in self.live() if b != x], dtype=np.int64)
        if not members or not len(others):
            return set()
        before = self.total()
        self.undo, self.links = {}, []
        for o in sorted(members, key=lambda o: (-p.lengths_of_orders[o], o)):
            room = others[
                p.fits(
                    self.btotes[others] + p.totes[o],
                    self.bvolume[others] + p.volume[o],
                    self.blines[others] + p.lines[o],
                )
            ]
            placed = False
            if len(room):
                grown = p.lengths(self.bmask[room] | p.masks[o]) - self.blen[room]
                for at in np.lexsort((room, grown)).tolist():
                    if self.apply(x, int(room[at]), o, -1):
                        self.refresh((x, int(room[at])))
                        placed = True
                        break
            if not placed:
                break
        undo = self.undo
        if undo:
            self.forget(undo)
            self.descend(undo)
            undo = self.undo
        self.undo, self.links = None, []
        if not self.members[x] and self.total() < before - _EPS:
            return set(undo)
        if undo:
            self._restore(undo, undo)
        return set()

    def dissolve(self) -> None:
        """`empty` every batch that is not full, fewest orders and shortest first, while there is
        room for it elsewhere."""
        for x in sorted(self.live(), key=lambda b: (len(self.members[b]), self.blen[b], b)):
            if self.out_of_time():
                break
            if not self.members[x]:
                continue
            others = [b for b in self.live() if b != x]
            # Room for every one of its orders, on every count (the cheapest test first).
            spare = self.p.cart.totes * len(others) - int(self.btotes[others].sum())
            if spare >= int(self.btotes[x]):
                changed = self.empty(x)
                if changed:
                    self.find_neighbours(changed - {x})

    def ils_round(self, rng: np.random.Generator, *, swaps: int = 2) -> int:
        """One round of iterated local search, in many places at once.

        Seeds are drawn at random, none a neighbour of another; at each, ``swaps`` random swaps
        between a batch of the growing region and a random neighbour of it (the kick). Descent
        runs from every kicked batch at once. The batches that exchanged orders in this round
        fall into groups linked by their exchanges (usually one group per seed); a group whose
        total got shorter stays, every other group goes back to where it was. Returns how many
        groups stayed.
        """
        live = self.live()
        if len(live) < 2:
            return 0
        self.p.work += 2.5e-4 + 2e-6 * len(self.members)
        self.undo, self.links = {}, []
        blocked: set[int] = set()
        for seed in rng.permutation(len(self.members)).tolist():
            if seed in blocked or not self.members[seed]:
                continue
            # Two steps of neighbours apart, so that the kicks and their descents rarely meet.
            near = {seed, *self.neighbours[seed], *self.named_by[seed]}
            blocked.update(near)
            for b in near:
                blocked.update((*self.neighbours[b], *self.named_by[b]))
            region = [seed]
            for _ in range(swaps):
                x = region[int(rng.integers(len(region)))]
                choices = [b for b in self.neighbours[x] if self.members[b]]
                if not choices:
                    continue
                y = choices[int(rng.integers(len(choices)))]
                o = self.members[x][int(rng.integers(len(self.members[x])))]
                q = self.members[y][int(rng.integers(len(self.members[y])))]
                if self.apply(x, y, o, q) and y not in region:
                    region.append(y)
        kicked = set(self.undo)
        if kicked:
            self.refresh(kicked)
            self.forget(kicked)
            self.descend(kicked)
        undo, links = self.undo, self.links
        self.undo, self.links = None, []
        # Groups of batches linked by this round's exchanges (union-find).
        parent = {b: b for b in undo}

        def root(b: int) -> int:
            while parent[b] != b:
                parent[b] = parent[parent[b]]
                b = parent[b]
            return b

        for a, b in links:
            parent[root(a)] = root(b)
        groups: dict[int, list[int]] = {}
        for b in undo:
            groups.setdefault(root(b), []).append(b)
        kept = 0
        back = []
        for group in groups.values():
            if float(self.blen[group].sum()) < sum(undo[b][1] for b in group) - _EPS:
                kept += 1
                continue
            back.extend(group)
        if back:
            self._restore(undo, back)
        return kept
