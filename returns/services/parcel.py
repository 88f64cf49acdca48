"""A parcel of a return as the handheld grades it: units of one line may come in different grades
(two tees new, one damaged), so a SKU may appear in several rows. ``return_receive`` takes each SKU
once per call; here the rows are split into rounds (a SKU's first row in the first round, its
second in the second...) and each round is one ``return_receive`` call, all in one transaction:
a refused row refuses the parcel and nothing is saved.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from django.db import transaction

from orders import locks as order_locks
from returns import locks
from returns.models import Return
from returns.services.rmas import ReturnError, _error, _positive_int, _text, return_receive

_FIELD = re.compile(r"^lines\[(\d+)\](.*)$")


@transaction.atomic
def return_receive_parcel(
    *, return_id, rows: Sequence[Mapping], actor: str = "", seen: Mapping[str, int] | None = None
) -> Return:
    """Receive a parcel whose ``rows`` = [{sku, quantity, condition, disposition, location?, note?}]
    may name a SKU more than once (one row per grade). The units of a SKU across its rows are at most
    those still expected. Refusals name the rows as ``lines[i]`` of ``rows``.

    ``seen`` = {sku: units received} as the page showed them: when a line has moved on since (the
    same form sent twice, another device), the parcel is refused (409) rather than received twice.
    """
    head = Return.objects.filter(pk=return_id).values_list("order_id", flat=True).first()
    if head is None:
        raise ReturnError("return not found", code="not_found")
    order_locks.order_lock(head)  # the lock order of return_receive: the order, the return, its lines
    rma = locks.return_lock(return_id)
    lines = locks.return_lines_lock(rma)
    if seen is not None and any(seen.get(line.sku, line.received_quantity) != line.received_quantity for line in lines):
        raise ReturnError(
            f"Return {rma.number} changed since the page was shown (units were received meanwhile): "
            "check what is still expected and grade the parcel again",
            code="invalid_state",
        )
    expected = {line.sku: line.quantity - line.received_quantity for line in lines}
    totals: dict[str, list[int]] = {}
    rounds: list[list[int]] = []
    for index, row in enumerate(rows):
        sku = _text(row.get("sku"))
        seen = totals.setdefault(sku, [])
        seen.append(index)
        if len(rounds) < len(seen):
            rounds.append([])
        rounds[len(seen) - 1].append(index)
    errors = []
    for sku, indexes in totals.items():
        quantities = [rows[i].get("quantity") for i in indexes]
        counted = len(indexes) > 1 and sku in expected and all(_positive_int(q) for q in quantities)
        if counted and sum(quantities) > expected[sku]:
            errors.append(
                _error(
                    f"lines[{indexes[-1]}].quantity",
                    "exceeds_returned",
                    f"{' + '.join(map(str, quantities))} x {sku} is more than the {expected[sku]} still expected.",
                )
            )
    if errors:
        raise ReturnError("The receipt has invalid lines.", errors=errors)
    if not rounds:
        rounds = [[]]
    for indexes in rounds:
        try:
            rma = return_receive(return_id=return_id, lines=[rows[i] for i in indexes], actor=actor)
        except ReturnError as exc:
            for error in exc.errors:
                found = _FIELD.match(error.get("field") or "")
                if found:
                    error["field"] = f"lines[{indexes[int(found.group(1))]}]{found.group(2)}"
            raise
    return rma
