"""The handheld's scan flow: one scan (or on-screen button) at a time, at the current task's step.

The progress is kept on the task (``location_confirmed``, ``counted_quantity``), so a reload, or
another device, resumes at the same step::

    location -> product (a scan counts one unit, a case barcode its pack) -> count (more scans,
    or the quantity buttons) -> tote (the tote scan confirms the counted units: the pick)

Every scan is a PickScan row, accepted or refused, keyed by the device's scan id, so that a
repeated scan is answered from the stored outcome and changes nothing. A refused scan changes
nothing else. Locks: the current task's order, then the task (as pick_confirm), then the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import groupby

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from inventory import scanning
from inventory.models import Lot, StockBalance
from orders import locks as order_locks
from orders.models import Order, Status
from picking import locks
from picking.geometry import Layout, location_stop, path_length
from picking.models import PickList, PickScan, PickTask, ScanKind, TaskStatus
from picking.services.common import PickingError
from picking.services.picks import apply_pick, assigned_elsewhere, cancel_dead_task, log_scan, mark_started

# Steps of the current task; DONE when the list has no open task left.
LOCATION, PRODUCT, COUNT, TOTE, DONE = "location", "product", "count", "tote", "done"
# On-screen buttons: all the remaining units, one more, one less, a number (a keypad), a short
# pick, and the confirmation of a task without a tote.
ACTIONS = ("all", "plus", "minus", "set", "short", "confirm")
# The input field a refusal points at (the scanned code when not named here).
_FIELDS = {
    "bad_quantity": "quantity",
    "stale_task": "task",
    "assigned_elsewhere": None,
    "list_done": None,
    "busy": None,
}
# Refusals that are about the state of the list, not about what was scanned: HTTP 409.
CONFLICTS = frozenset(
    {"stale_task", "assigned_elsewhere", "list_done", "order_not_picking", "task_done", "scan_id_reused", "busy"}
)


class ScanRefused(PickingError):
    """A refused scan: logged as a refused PickScan, nothing else changed. ``state`` is the current one."""

    def __init__(self, message: str, *, code: str, field: str | None, scan: PickScan, state: PickState):
        super().__init__(message, field=field, code=code, status=409 if code in CONFLICTS else 422)
        self.scan = scan
        self.state = state

    @classmethod
    def from_scan(cls, scan: PickScan, state: PickState) -> ScanRefused:
        """The refusal a stored refused scan answers with."""
        return cls(
            scan.message, code=scan.error_code, field=_FIELDS.get(scan.error_code, "code"), scan=scan, state=state
        )


@dataclass(frozen=True)
class ToteDrop:
    """What one tote holds at the end of the list, for the drop at packing."""

    tote: str
    orders: tuple[str, ...]
    units: int
    put_back: tuple[str, ...] = ()  # orders cancelled after their units went in: put those back
    put_back_units: int = 0


@dataclass(frozen=True)
class PickState:
    pick_list: PickList
    task: PickTask | None
    step: str
    picks_done: int
    picks_total: int
    units_picked: int
    units_total: int
    remaining_distance_m: float
    totes: tuple[ToteDrop, ...] = field(default=())

    @property
    def done(self) -> bool:
        return self.task is None

    @property
    def counted(self) -> int:
        return self.task.counted_quantity if self.task else 0

    @property
    def remaining(self) -> int:
        """Units of the current task still to put in the tote."""
        return self.task.remaining if self.task else 0


@dataclass(frozen=True)
class ScanResult:
    scan: PickScan
    state: PickState
    replayed: bool = False


@dataclass
class _Outcome:
    kind: str
    error: str = ""
    message: str = ""
    quantity: int = 0


# -- reading the state ---------------------------------------------------------------------


def _carried_location(pick_list: PickList, task: PickTask) -> bool:
    """The picker already stands at the task's location: the list's last confirmation was there.

    Saves a location scan for each further order of a batch picked at the same place.
    """
    last = (
        PickScan.objects.filter(pick_list=pick_list, accepted=True, kind__in=(ScanKind.TOTE, ScanKind.SHORT))
        .order_by("-created_at", "-id")
        .values_list("task__location_id", flat=True)
        .first()
    )
    return last is not None and last == task.location_id


def _step(task: PickTask, *, carried: bool) -> str:
    if not (task.location_confirmed or carried):
        return LOCATION
    if task.counted_quantity == 0:
        return PRODUCT
    if task.counted_quantity < task.remaining:
        return COUNT
    return TOTE


def _remaining_distance(pick_list: PickList, tasks: list[PickTask], current: PickTask | None, *, here: bool) -> float:
    """Metres from where the picker is (the current location once scanned, else the last pick, else the
    depot) through the open tasks in sequence and back to the depot; locations off the grid are left out."""
    open_stops = [
        s for s in (location_stop(t.location, key=t.location.pk) for t in tasks if t.status == TaskStatus.OPEN) if s
    ]
    if not open_stops:
        return 0.0
    start = None
    if current is not None and here:
        start = location_stop(current.location, key=current.location.pk)
    else:
        picked = [t for t in tasks if t.picked_at is not None]
        if picked:
            last = max(picked, key=lambda t: t.picked_at).location
            start = location_stop(last, key=last.pk)
    layout = Layout.of(pick_list.warehouse, stops=[*open_stops, *([start] if start else [])])
    return round(path_length(start, open_stops, layout), 1)


def _totes(tasks: list[PickTask]) -> tuple[ToteDrop, ...]:
    """What each tote holds at the end: units of orders cancelled after their pick are listed apart,
    to be put back (the order's put-back tasks are on the handheld replenish page)."""
    filled = sorted((t for t in tasks if t.picked_quantity > 0), key=lambda t: (len(t.tote), t.tote))
    drops = []
    for tote, group in groupby(filled, key=lambda t: t.tote):
        members = list(group)
        live = [t for t in members if t.order.status != Status.CANCELLED]
        dead = [t for t in members if t.order.status == Status.CANCELLED]
        drops.append(
            ToteDrop(
                tote=tote,
                orders=tuple(sorted({t.order.number for t in live})),
                units=sum(t.picked_quantity for t in live),
                put_back=tuple(sorted({t.order.number for t in dead})),
                put_back_units=sum(t.picked_quantity for t in dead),
            )
        )
    return tuple(drops)


def pick_state(*, pick_list: PickList) -> PickState:
    """Where the list is: the current task and its step, progress, remaining distance, the totes."""
    pick_list = PickList.objects.select_related("warehouse", "assigned_to", "wave").get(pk=pick_list.pk)
    every = list(pick_list.tasks.select_related("location", "product", "lot", "order").order_by("sequence", "id"))
    # An open task whose order left picking (cancelled) is voided at the next scan: never shown.
    tasks = [
        t
        for t in every
        if t.status != TaskStatus.CANCELLED and not (t.status == TaskStatus.OPEN and t.order.status != Status.PICKING)
    ]
    current = next((t for t in tasks if t.status == TaskStatus.OPEN), None)
    step = DONE if current is None else _step(current, carried=_carried_location(pick_list, current))
    return PickState(
        pick_list=pick_list,
        task=current,
        step=step,
        picks_done=sum(1 for t in tasks if t.status != TaskStatus.OPEN),
        picks_total=len(tasks),
        units_picked=sum(t.picked_quantity for t in tasks),
        units_total=sum(t.quantity for t in tasks),
        remaining_distance_m=_remaining_distance(pick_list, tasks, current, here=step not in (LOCATION, DONE)),
        totes=_totes(every),
    )


# -- the scan flow -------------------------------------------------------------------------


def _is_tote(task: PickTask, code: str) -> bool:
    return bool(task.tote) and code.strip().upper() == task.tote.strip().upper()


def _product_units(task: PickTask, code: str) -> tuple[int, str, str]:
    """(units one scan of ``code`` counts, error code, message) for the task's product and lot."""
    expected = f"expected {task.product.sku}"
    try:
        scan = scanning.parse_scan(code)
        product, per_scan = scanning.resolve_product(task.tenant_id, scan)
    except scanning.ScanError as exc:
        if exc.code == "bad_check_digit":
            return 0, "invalid_scan", f"Unreadable scan {code}: {exc}; scan again."
        return 0, "wrong_product", f"Wrong product {code}: {expected}."
    if product.pk != task.product_id:
        return 0, "wrong_product", f"Wrong product {product.sku}: {expected}."
    lot = task.lot.code
    if scan.lot:
        known = Lot.objects.filter(tenant_id=task.tenant_id, product_id=task.product_id, code=scan.lot).exists()
        # A lot we do not track for this product (its label's lot, not ours) is no reason to refuse.
        if scan.lot != lot and (task.product.lot_tracked or known):
            return 0, "wrong_lot", f"Wrong lot {scan.lot}: take lot {lot}."
    elif task.product.lot_tracked:
        others = StockBalance.objects.filter(
            product_id=task.product_id, location_id=task.location_id, on_hand__gt=0
        ).exclude(lot_id=task.lot_id)
        if others.exists():
            return 0, "lot_required", f"Several lots here: scan the label with lot {lot}."
    return per_scan, "", ""


def _count_product(task: PickTask, code: str) -> _Outcome:
    units, error, message = _product_units(task, code)
    if error:
        return _Outcome(ScanKind.PRODUCT, error, message)
    if task.counted_quantity + units > task.remaining:
        extra = f" (this scan counts {units})" if units > 1 else ""
        return _Outcome(
            ScanKind.PRODUCT,
            "over_count",
            f"Too many: {task.remaining} to pick, {task.counted_quantity} counted{extra}. Scan tote {task.tote}.",
        )
    task.counted_quantity += units
    task.location_confirmed = True
    task.save(update_fields=["counted_quantity", "location_confirmed", "updated_at"])
    return _Outcome(ScanKind.PRODUCT, message=f"{task.counted_quantity} of {task.remaining} counted.", quantity=units)


def _put_in_tote(task, pick_list, *, actor) -> _Outcome:
    units = task.counted_quantity
    apply_pick(task=task, pick_list=pick_list, quantity=units, short=False, actor=actor)
    left = f" {task.remaining} more to pick here." if task.remaining else ""
    into = task.tote or "the cart"
    return _Outcome(ScanKind.TOTE, message=f"Picked {units} × {task.product.sku} into {into}.{left}", quantity=units)


def _set_count(task: PickTask, action: str, quantity: int | None, step: str) -> _Outcome:
    if step == LOCATION:
        return _Outcome(ScanKind.QUANTITY, "location_first", f"Scan location {task.location.code} first.")
    if task.counted_quantity == 0:
        return _Outcome(ScanKind.QUANTITY, "product_first", f"Scan one {task.product.sku} first.")
    target = {
        "all": task.remaining,
        "plus": task.counted_quantity + 1,
        "minus": task.counted_quantity - 1,
        "set": quantity,
    }[action]
    if target is None or target < 0 or target > task.remaining:
        code = "over_count" if target is not None and target > task.remaining else "bad_quantity"
        return _Outcome(ScanKind.QUANTITY, code, f"The quantity must be 0 to {task.remaining}.")
    task.counted_quantity = target
    task.save(update_fields=["counted_quantity", "updated_at"])
    return _Outcome(ScanKind.QUANTITY, message=f"{target} of {task.remaining} counted.", quantity=target)


def _short(task, pick_list, *, code, quantity, step, actor) -> _Outcome:
    if step == LOCATION:
        message = f"Scan location {task.location.code} first: a short is reported where you stand."
        return _Outcome(ScanKind.SHORT, "location_first", message)
    found = task.counted_quantity
    if quantity is not None and quantity != found:
        message = f"{found} counted: scan (or count) the units you found, then report the short."
        return _Outcome(ScanKind.SHORT, "bad_quantity", message)
    if found and task.tote and not _is_tote(task, code):
        error = "wrong_tote" if code else "tote_required"
        return _Outcome(ScanKind.SHORT, error, f"Put the {found} found in tote {task.tote} and scan {task.tote}.")
    if not found and code and not task.location.matches_scan(code):
        return _Outcome(ScanKind.SHORT, "wrong_location", f"Wrong location {code}: you are at {task.location.code}.")
    missing = task.remaining - found
    replacements = apply_pick(task=task, pick_list=pick_list, quantity=found, short=True, actor=actor)
    codes = PickTask.objects.filter(pk__in=[r.pk for r in replacements]).values_list("location__code", flat=True)
    where = ", ".join(sorted(set(codes)))
    rest = f"The rest is picked at {where}." if where else "The rest waits for stock."
    message = f"Short pick: {found} of {found + missing} × {task.product.sku} at {task.location.code}. {rest}"
    return _Outcome(ScanKind.SHORT, message=message, quantity=found)


def _interpret(task, pick_list, *, code, action, quantity, carried, actor) -> _Outcome:
    """What the scan (or button) means at the task's step; accepted ones are applied here."""
    step = _step(task, carried=carried)
    if action == "short":
        return _short(task, pick_list, code=code, quantity=quantity, step=step, actor=actor)
    if action in ("all", "plus", "minus", "set"):
        return _set_count(task, action, quantity, step)
    if action == "confirm":
        if task.tote:
            return _Outcome(ScanKind.TOTE, "tote_required", f"Scan tote {task.tote}.")
        if task.counted_quantity == 0:
            return _Outcome(ScanKind.TOTE, "product_first", f"Scan one {task.product.sku} first.")
        return _put_in_tote(task, pick_list, actor=actor)
    if step == LOCATION:
        if not task.location.matches_scan(code):
            return _Outcome(ScanKind.LOCATION, "wrong_location", f"Wrong location {code}: go to {task.location.code}.")
        task.location_confirmed = True
        task.save(update_fields=["location_confirmed", "updated_at"])
        return _Outcome(ScanKind.LOCATION, message=f"At {task.location.code}: scan {task.product.sku}.")
    if task.location.matches_scan(code):  # the location again: harmless
        return _Outcome(ScanKind.LOCATION, message=f"At {task.location.code}.")
    if step == PRODUCT:
        if _is_tote(task, code):
            return _Outcome(ScanKind.TOTE, "product_first", f"Scan {task.product.sku} before the tote.")
        return _count_product(task, code)
    if _is_tote(task, code):
        return _put_in_tote(task, pick_list, actor=actor)
    if step == TOTE:  # everything is counted: only the tote is expected
        if not _product_units(task, code)[1]:
            return _Outcome(ScanKind.PRODUCT, "over_count", f"All {task.remaining} counted: scan tote {task.tote}.")
        return _Outcome(ScanKind.TOTE, "wrong_tote", f"Wrong tote {code}: put them in {task.tote}.")
    if _looks_like_tote(pick_list, code):
        return _Outcome(ScanKind.TOTE, "wrong_tote", f"Wrong tote {code}: put them in {task.tote}.")
    return _count_product(task, code)


def _looks_like_tote(pick_list: PickList, code: str) -> bool:
    """Whether ``code`` is one of the list's totes (any case)."""
    totes = PickTask.objects.filter(pick_list=pick_list).values_list("tote", flat=True).distinct()
    return code.strip().upper() in {t.upper() for t in totes if t}


def void_dead_tasks(*, pick_list: PickList, actor: str = "") -> list[PickTask]:
    """Void the open tasks of the list whose order has left picking (cancelled), so that the picker
    is never asked for them; completes the list (and wave) when nothing else is left.

    One transaction per task, each in the house lock order (its order, the list, the task), so
    that a scan waiting on these rows cannot deadlock with it; a cancelled order cannot change
    any more, so reading its status first is safe. Returns the voided tasks.
    """
    voided = []
    dead = (
        PickTask.objects.filter(pick_list=pick_list, status=TaskStatus.OPEN)
        .exclude(order__status=Status.PICKING)
        .values_list("pk", "order_id")
    )
    for task_id, order_id in list(dead):
        with transaction.atomic():
            order = order_locks.order_qs_select_for_update().get(pk=order_id)
            locks.pick_list_lock(pick_list.pk)
            task = locks.task_qs_select_for_update().select_related("pick_list").get(pk=task_id)
            if task.status == TaskStatus.OPEN and order.status != Status.PICKING:
                cancel_dead_task(task, order, actor=actor)
                voided.append(task)
    return voided


def void_dead_tasks_everywhere(*, actor: str = "sweep") -> int:
    """void_dead_tasks for every unfinished list with such a task (beat): a list whose last orders
    were cancelled is closed even when nobody scans it again."""
    ids = set(
        PickTask.objects.filter(status=TaskStatus.OPEN)
        .exclude(order__status=Status.PICKING)
        .values_list("pick_list_id", flat=True)
    )
    return sum(len(void_dead_tasks(pick_list=pl, actor=actor)) for pl in PickList.objects.filter(pk__in=ids))


def _lock_current(pick_list: PickList) -> tuple[Order | None, PickList, PickTask | None]:
    """(the current task's order, the list, the current task), locked in the house order: the
    order, the list, the task; (None, list, None) when nothing is left.

    Another device may finish the task between the read and the lock: then the next one is current.
    """
    for _attempt in range(5):
        ref = (
            PickTask.objects.filter(pick_list=pick_list, status=TaskStatus.OPEN)
            .order_by("sequence", "id")
            .values("pk", "order_id")
            .first()
        )
        if ref is None:
            return None, locks.pick_list_lock(pick_list.pk), None
        order = order_locks.order_qs_select_for_update().get(pk=ref["order_id"])
        locked_list = locks.pick_list_lock(pick_list.pk)
        task = (
            locks.task_qs_select_for_update()
            .select_related("location", "product", "lot", "pick_list", "order")
            .get(pk=ref["pk"])
        )
        first = (
            PickTask.objects.filter(pick_list=pick_list, status=TaskStatus.OPEN)
            .order_by("sequence", "id")
            .values_list("pk", flat=True)
            .first()
        )
        if task.status == TaskStatus.OPEN and first == task.pk:
            return order, locked_list, task
    raise PickingError("the pick list is changing under this scan; scan again", code="busy", status=409)


def _dead_task(pick_list: PickList, task_id: str) -> PickTask | None:
    """The task ``task_id`` of the list when it was voided because its order left picking."""
    if not task_id:
        return None
    try:
        return (
            PickTask.objects.filter(pick_list=pick_list, pk=task_id, status=TaskStatus.CANCELLED)
            .select_related("order")
            .first()
        )
    except (ValueError, ValidationError):
        return None


def _replay(previous: PickScan, *, code: str, pick_list: PickList) -> ScanResult:
    if previous.code != code[:128]:
        raise PickingError(
            "this scan id was already used for another scan; scan again",
            field="scan_id",
            code="scan_id_reused",
            status=409,
        )
    state = pick_state(pick_list=pick_list)
    if not previous.accepted:
        raise ScanRefused.from_scan(previous, state)
    return ScanResult(scan=previous, state=state, replayed=True)


def pick_scan(
    *,
    pick_list: PickList,
    scan_id: str,
    code: str = "",
    action: str = "",
    quantity: int | None = None,
    task_id=None,
    user=None,
    actor: str = "",
) -> ScanResult:
    """Interpret one scan (or an on-screen button) at the current task's step.

    ``scan_id``: made by the device for each scan; a repeat answers the stored outcome and
    changes nothing. ``task_id``: the task the device shows; when the list has moved on (another
    device picked it) the scan is refused as ``stale_task`` instead of applying to the next task.
    Raises ScanRefused (logged, nothing else changed), or PickingError for input that is no scan
    at all (no scan id, nothing scanned; not logged).
    """
    scan_id = (scan_id or "").strip()
    code = (code or "").strip()
    action = (action or "").strip().lower()
    if not scan_id or len(scan_id) > 64:
        raise PickingError("each scan needs a scan_id of 1 to 64 characters", field="scan_id", code="required")
    if action and action not in ACTIONS:
        raise PickingError(f"action must be one of {', '.join(ACTIONS)}", field="action", code="invalid")
    if not code and not action:
        raise PickingError("Scan a barcode.", field="code", code="required")
    if len(code) > 128:
        raise PickingError("a scan has at most 128 characters", field="code", code="invalid")
    if action == "set" and quantity is None:
        raise PickingError("set needs a quantity", field="quantity", code="required")
    void_dead_tasks(pick_list=pick_list, actor=actor)
    try:
        with transaction.atomic():
            result = _scan(
                pick_list=pick_list,
                scan_id=scan_id,
                code=code,
                action=action,
                quantity=quantity,
                task_id=task_id,
                user=user,
                actor=actor,
            )
    except IntegrityError:
        # The same scan id committed by a concurrent request after our check: it is a repeat.
        previous = PickScan.objects.filter(pick_list=pick_list, scan_id=scan_id).first()
        if previous is None:
            raise
        return _replay(previous, code=code, pick_list=pick_list)
    if not result.scan.accepted:
        raise ScanRefused.from_scan(result.scan, result.state)
    return result


def _scan(*, pick_list, scan_id, code, action, quantity, task_id, user, actor) -> ScanResult:
    previous = PickScan.objects.filter(pick_list=pick_list, scan_id=scan_id).first()
    if previous is not None:
        return _replay(previous, code=code, pick_list=pick_list)
    order, fresh, task = _lock_current(pick_list)
    # A repeat of this scan may have committed while this one waited for the locks.
    previous = PickScan.objects.filter(pick_list=pick_list, scan_id=scan_id).first()
    if previous is not None:
        return _replay(previous, code=code, pick_list=pick_list)
    kind = {"short": ScanKind.SHORT, "confirm": ScanKind.TOTE}.get(action, ScanKind.QUANTITY if action else None)
    shown = str(task_id) if task_id else ""
    dead = _dead_task(fresh, shown)
    outcome = None
    if task is not None and order.status != Status.PICKING:
        # Cancelled after void_dead_tasks ran: void it now (kept, not rolled back), ask for nothing.
        cancel_dead_task(task, order, actor=actor)
        outcome = _Outcome(
            kind or ScanKind.LOCATION,
            "order_not_picking",
            f"Order {order.number} was cancelled: skip it and put back any of its units. Scan again for the next pick.",
        )
    elif dead is not None:
        # The device shows a task whose order was cancelled meanwhile: nothing is scanned for it.
        outcome = _Outcome(
            kind or ScanKind.LOCATION,
            "order_not_picking",
            f"Order {dead.order.number} was cancelled: skip it and put back any of its units. Here is the next pick.",
        )
    elif task is None:
        outcome = _Outcome(kind or ScanKind.TOTE, "list_done", "This pick list is done: take the cart to packing.")
    elif message := assigned_elsewhere(fresh, user):
        outcome = _Outcome(kind or ScanKind.LOCATION, "assigned_elsewhere", message)
    elif shown and shown != str(task.pk):
        outcome = _Outcome(
            kind or ScanKind.LOCATION,
            "stale_task",
            "The list moved on (picked on another device): here is the next pick.",
        )
    if outcome is None:
        carried = _carried_location(fresh, task)
        outcome = _interpret(task, fresh, code=code, action=action, quantity=quantity, carried=carried, actor=actor)
        if not outcome.error:
            mark_started(fresh, user=user)
    scan = log_scan(
        pick_list=fresh,
        task=task,
        user=user,
        actor=actor,
        kind=outcome.kind,
        code=code,
        accepted=not outcome.error,
        error=outcome.error,
        message=outcome.message,
        quantity=outcome.quantity,
        scan_id=scan_id,
    )
    return ScanResult(scan=scan, state=pick_state(pick_list=fresh))
