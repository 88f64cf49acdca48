"""A parcel of a return as the handheld grades it: units of one line may come in different grades
(two tees new, one damaged), so a SKU may appear in several rows; ``return_receive`` takes them in
one call (one receipt per row, one timeline entry and one ``return.received`` for the parcel).
Here the page's view of the return is checked first, so that the same form sent twice, or a
parcel graded on two devices at once, is refused rather than received twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.db import transaction

from returns import locks
from returns.models import Return
from returns.services.common import ReturnError, lock_return
from returns.services.rmas import return_receive


@transaction.atomic
def return_receive_parcel(
    *, return_id, rows: Sequence[Mapping], actor: str = "", seen: Mapping[str, int] | None = None
) -> Return:
    """Receive a parcel whose ``rows`` = [{sku, quantity, condition, disposition, location?, note?}]
    may name a SKU more than once (one row per grade). The units of a SKU across its rows are at most
    those still expected. Refusals name the rows as ``lines[i]`` of ``rows`` (return_receive's).

    ``seen`` = {sku: units received} as the page showed them: when a line has moved on since (the
    same form sent twice, another device), the parcel is refused (409) rather than received twice.
    """
    rma = lock_return(return_id)  # the lock order of return_receive: the orders, the return, its lines
    lines = locks.return_lines_lock(rma)
    if seen is not None and any(seen.get(line.sku, line.received_quantity) != line.received_quantity for line in lines):
        raise ReturnError(
            f"Return {rma.number} changed since the page was shown (units were received meanwhile): "
            "check what is still expected and grade the parcel again",
            code="invalid_state",
        )
    return return_receive(return_id=return_id, lines=rows, actor=actor)
