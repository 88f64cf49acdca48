"""The orders of one batching call as bit masks and capacity vectors, with a cache of route
lengths by position set and the count of planned work that budgets the searches."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from picking.batching.lengths import Sweep
from picking.geometry import Layout, Stop

_CACHE_LIMIT = 500_000


@dataclass(frozen=True)
class BatchOrder:
    key: object
    stops: tuple[Stop, ...]
    totes: int = 1
    volume_l: float = 0.0
    lines: int = 1


@dataclass(frozen=True)
class Cart:
    totes: int = 8
    volume_l: float | None = None
    lines: int | None = None

    def fits(self, orders: Sequence[BatchOrder]) -> bool:
        if sum(o.totes for o in orders) > self.totes:
            return False
        if self.volume_l is not None and sum(o.volume_l for o in orders) > self.volume_l:
            return False
        return self.lines is None or sum(o.lines for o in orders) <= self.lines


def _void_keys(masks: np.ndarray) -> np.ndarray:
    """One numpy void scalar per position set: the bytes of its (fixed-width integer) masks."""
    flat = np.ascontiguousarray(masks).reshape(len(masks), -1)
    return flat.view(np.dtype((np.void, flat.shape[1] * 8))).ravel()


def mask_keys(masks: np.ndarray) -> list:
    """A hashable key per position set (the bytes of its masks)."""
    if masks.dtype == object:
        return [tuple(row.ravel().tolist()) for row in masks]
    return _void_keys(masks).tolist()


class Problem:
    """Work is counted in planned seconds (``work``): the sweeps' route-length moves
    (`Sweep.spent`) plus fixed costs per cache look-up and per search step, so that the same
    input gets the same effort on any machine."""

    def __init__(self, orders: Sequence[BatchOrder], cart: Cart, layout: Layout) -> None:
        for order in orders:
            layout.check(order.stops)
        self.orders = list(orders)
        self.cart = cart
        self.layout = layout
        aisles = max([layout.depot_aisle, *(s.aisle for o in self.orders for s in o.stops)])
        self.sweep = Sweep(layout, aisles)
        self.masks = self.sweep.masks([o.stops for o in self.orders])
        self.totes = np.array([o.totes for o in self.orders], dtype=np.int64)
        self.volume = np.array([o.volume_l for o in self.orders], dtype=np.float64)
        self.lines = np.array([o.lines for o in self.orders], dtype=np.int64)
        self.cache: dict = {}
        # The planned cost of one route length, for choosing how much to ask for.
        if self.sweep.vector:
            self.eval_cost = (1.5 + 0.007 * self.sweep.program.moves) * 1e-6
        else:
            self.eval_cost = 5e-4 * layout.blocks
        self.overhead = 0.0
        # Float sums taken in another order than Cart.fits takes them may differ in the last bit:
        # the vector checks allow for that and every batch actually formed is checked exactly.
        self._slack = 1e-9 * max(1.0, cart.volume_l or 0.0)
        self.lengths_of_orders = self.lengths(self.masks)

    def fits(self, totes, volume, lines) -> np.ndarray:
        ok = np.asarray(totes) <= self.cart.totes
        if self.cart.volume_l is not None:
            ok = ok & (np.asarray(volume) <= self.cart.volume_l + self._slack)
        if self.cart.lines is not None:
            ok = ok & (np.asarray(lines) <= self.cart.lines)
        return ok

    def fits_exactly(self, members: Sequence[int]) -> bool:
        return self.cart.fits([self.orders[i] for i in sorted(members)])

    def lengths(self, masks: np.ndarray, *, cache: bool = True) -> np.ndarray:
        """Exact route lengths of the position sets; ``cache=False`` for sets that will not recur."""
        if not len(masks):
            return np.zeros(0)
        if not cache:
            # Not kept, but computed once per distinct set: orders of the same popular products
            # make many identical unions.
            if len(masks) < 2 or masks.dtype == object:
                self._spend(0)
                return self.sweep.lengths(masks)
            _, first, inverse = np.unique(_void_keys(masks), return_index=True, return_inverse=True)
            self._spend(len(masks))
            return self.sweep.lengths(masks[first])[inverse.ravel()]
        keys = mask_keys(masks)
        self._spend(len(keys))
        get = self.cache.get
        found = [get(key) for key in keys]
        missing = [row for row, value in enumerate(found) if value is None]
        if missing:
            if len(self.cache) > _CACHE_LIMIT:
                self.cache.clear()  # bounds the memory; it only costs recomputation
            unique: dict = {}
            for row in missing:
                unique.setdefault(keys[row], row)
            computed = self.sweep.lengths(masks[list(unique.values())]).tolist()
            self._spend(0)
            self.cache.update(zip(unique, computed, strict=True))
            for row in missing:
                found[row] = self.cache[keys[row]]
        return np.array(found, dtype=np.float64)

    def _spend(self, looked_up: int) -> None:
        """Count the cache look-ups. Even with none, the work passes through its setter, which
        rounds ``overhead``: the calls with 0 keep the planned work, and so the batching, exactly
        as it was."""
        self.work += looked_up * 5e-7

    @property
    def work(self) -> float:
        """Planned seconds of work so far."""
        return self.sweep.spent + self.overhead

    @work.setter
    def work(self, value: float) -> None:
        self.overhead = value - self.sweep.spent

    def union(self, members: Sequence[int]) -> np.ndarray:
        return np.bitwise_or.reduce(self.masks[list(members)], axis=0)
