"""Which orders share a cart: order batching to minimise the total route length.

An order needs one or more totes (its volume over a tote's); a cart holds ``Cart.totes`` totes
and, when set, at most ``volume_l`` litres and ``lines`` order lines. The length of a batch is
the length of the shortest route through all its orders' stops (picking.routing).

- `fcfs`: first come, first served: orders in the given (priority) order fill carts one by one.
- `total_length`: the summed route length of a batching.
- `batch`: the batching the planner uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from picking.routing import Layout, Stop, optimal_length


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


def batch_length(orders: Sequence[BatchOrder], layout: Layout) -> float:
    return optimal_length([s for o in orders for s in o.stops], layout)


def total_length(batches: Sequence[Sequence[BatchOrder]], layout: Layout) -> float:
    return sum(batch_length(b, layout) for b in batches)


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


def batch(
    orders: Sequence[BatchOrder], cart: Cart, layout: Layout, *, time_budget_s: float = 2.0
) -> list[list[BatchOrder]]:
    """The planner's batching. (Being replaced by savings plus local search; FCFS until then.)"""
    return fcfs(orders, cart)
