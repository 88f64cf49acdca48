"""Pack sessions: a packer opens a picked order at a station, scans every unit (and the box of each
parcel), weighs the parcels and closes the session, which packs the order (``order_pack``).

Locks, in the house order: the order row, then the session row (packing.locks). Opening locks the
order, so two packers opening the same order at once queue there and the second finds the first's
open session (the partial unique constraint ``pack_session_one_open_per_order`` backs it). A scan
locks only its session: scans of one session queue, so the last unit cannot be counted twice.

Every scan is a PackScan keyed by the device's ``scan_id``: a resent scan answers the first outcome
and changes nothing. A refused scan changes nothing either; it is recorded as a refused PackScan in
a transaction of its own (the mis-scan rate is computed from those), after the scan's own
transaction rolled back.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from fulfillment.errors import FieldRefusal, Problem
from fulfillment.tenancy.actor import Actor
from fulfillment.tenancy.authentication import actor_for_user
from inventory import scanning
from orders import locks as order_locks
from orders import services as orders_services
from orders.models import Order, Status
from packing import locks, selectors
from packing.models import (
    Box,
    PackScan,
    PackScanResult,
    PackSession,
    PackSessionPackage,
    PackSessionStatus,
)
from packing.services.packs import PackageInput, PackItemInput, order_pack
from picking.models import PickTask

MAX_SCAN_ID = 64
MAX_BARCODE = 128
MAX_REASON = 300


class PackSessionError(FieldRefusal):
    """A refused pack-session action: 409 when it conflicts with the state of the order or the
    session, 404 when there is no such session, else 422 naming the field at fault. The problem
    document always lists the refusal in ``errors`` (``[{field, code, message}]``)."""

    CONFLICTS = frozenset({"order_not_picked", "being_packed", "session_not_open", "scan_id_reused"})

    def __init__(
        self,
        message: str,
        *,
        code: str,
        field: str | None = None,
        errors: list[dict] | None = None,
        extra: dict | None = None,
        status: int | None = None,
    ):
        status = status or (409 if code in self.CONFLICTS else 422)
        super().__init__(message, code=code, status=status, field=field, errors=errors, extra=extra)

    def problem(self) -> Problem:
        if self.status == 422:
            return super().problem()
        errors = self.errors or [{"field": self.field, "code": self.code, "message": self.message}]
        return Problem(self.status, self.message, errors, self.extra)


@dataclass(frozen=True)
class PackSessionOpened:
    session: PackSession
    created: bool  # False: the packer's own open session for the order, resumed (a page reload)


@dataclass(frozen=True)
class PackScanOutcome:
    scan: PackScan
    replayed: bool = False  # the scan id was seen before: its first outcome, nothing changed


@dataclass(frozen=True)
class ClosePackageInput:
    """The packer's word on one parcel at closing; what is left out is taken from the scans."""

    box: str = ""  # a box code; default: the box scanned for the package
    weight_g: int | None = None  # from the scale; default: the expected weight
    override_reason: str = ""  # why a weight outside the tolerance ships anyway


class _Refused(Exception):
    """A scan the rules refuse: the scan's transaction rolls back, then it is recorded as refused."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


# -- who and what ----------------------------------------------------------------------------


def _actor(user) -> Actor:
    actor = actor_for_user(user)
    if actor is None:
        raise PackSessionError("Only staff members pack orders.", code="staff_only", status=403)
    return actor


def _session(actor: Actor, session_id) -> PackSession:
    """The session, if the actor may see it (its warehouse is theirs); else 404, as for a missing one."""
    try:
        session = PackSession.objects.visible_to(actor).filter(pk=session_id).first()
    except (ValueError, TypeError, ValidationError):
        session = None
    if session is None:
        raise PackSessionError("No such pack session.", code="not_found", status=404)
    return session


def _being_packed(session: PackSession) -> PackSessionError:
    holder = session.packer.get_username()
    where = f" at {session.station}" if session.station else ""
    return PackSessionError(
        f"Order {session.order.number} is being packed by {holder}{where}.",
        code="being_packed",
        extra={"held_by": holder, "station": session.station, "session": str(session.pk)},
    )


def _check_packer(session: PackSession, user) -> None:
    if session.status != PackSessionStatus.OPEN:
        raise PackSessionError(f"This pack session is {session.status}.", code="session_not_open")
    if session.packer_id != user.pk:
        raise _being_packed(session)


def _order_by_reference(orders, reference: str):
    reference = str(reference).strip()
    match = None
    with contextlib.suppress(ValueError):
        match = orders.filter(pk=uuid.UUID(reference)).values_list("pk", flat=True).first()
    if match is None:
        match = orders.filter(number=reference).values_list("pk", flat=True).first()
    if match is None:
        raise PackSessionError(f"No order {reference}.", code="unknown_order", field="order")
    return match


def _order_by_tote(orders, tote: str):
    """The picked order whose units were picked into ``tote``. Tote codes are reused list after list,
    so only orders still waiting for packing (picking or picked) count."""
    code = tote.strip()
    candidates = list(
        orders.filter(
            status__in=(Status.PICKING, Status.PICKED),
            pk__in=PickTask.objects.filter(tote__iexact=code, picked_quantity__gt=0).values("order_id"),
        )
        .order_by("number")
        .values_list("pk", "number", "status")
    )
    picked = [(pk, number) for pk, number, status in candidates if status == Status.PICKED]
    if len(picked) > 1:
        numbers = [number for _pk, number in picked]
        raise PackSessionError(
            f"Tote {code} holds several picked orders ({', '.join(numbers)}): open one by its number.",
            code="ambiguous_tote",
            field="tote",
            extra={"orders": numbers},
        )
    if picked:
        return picked[0][0]
    if candidates:
        raise PackSessionError(
            f"Order {candidates[0][1]} in tote {code} is still being picked.", code="order_not_picked", field="tote"
        )
    raise PackSessionError(f"No picked order is in tote {code}.", code="unknown_tote", field="tote")


# -- open -----------------------------------------------------------------------------------


def pack_session_open(
    *,
    user,
    station: str = "",
    order: str | None = None,
    tote: str | None = None,
    scanned: str | None = None,
    warehouse: str | None = None,
) -> PackSessionOpened:
    """Open packing of a picked order, named by ``order`` (its id or number), by ``tote`` (the tote
    it was picked into) or by ``scanned`` (what a station scanned: an order's id or number, else a
    tote), at ``station``; ``warehouse`` (a code) narrows the search to one warehouse.

    The packer's own open session for the order is resumed (``created`` False). Raises
    PackSessionError: ``order_or_tote`` (neither or both given), ``unknown_order``, ``unknown_tote``,
    ``ambiguous_tote`` (422); ``order_not_picked``, ``being_packed`` (another packer holds it; the
    problem names them in ``held_by``) (409).
    """
    actor = _actor(user)
    order = str(order).strip() if order else ""
    tote = str(tote).strip() if tote else ""
    scanned = str(scanned).strip() if scanned else ""
    given = sum(1 for value in (order, tote, scanned) if value)
    if given != 1:
        message = "Give the order or the tote, not both." if given else "Give the order or the tote to pack."
        raise PackSessionError(message, code="order_or_tote", field="order")
    orders = Order.objects.visible_to(actor)
    if warehouse:
        orders = orders.filter(warehouse__code=warehouse.strip().upper())
    if scanned:
        try:
            order_id = _order_by_reference(orders, scanned)
        except PackSessionError as exc:
            if exc.code != "unknown_order":
                raise
            order_id = _order_by_tote(orders, scanned)
    else:
        order_id = _order_by_reference(orders, order) if order else _order_by_tote(orders, tote)
    station = (station or "").strip()[:40]
    try:
        with transaction.atomic():
            return _open(order_id=order_id, station=station, user=user, actor=actor)
    except IntegrityError:
        # Backstop: the order lock serialises opens, but the partial unique constraint has the last word.
        held = PackSession.objects.filter(order_id=order_id, status=PackSessionStatus.OPEN).first()
        if held is None:
            raise
        if held.packer_id == user.pk:
            return PackSessionOpened(session=held, created=False)
        raise _being_packed(held) from None


def _open(*, order_id, station: str, user, actor: Actor) -> PackSessionOpened:
    order = order_locks.order_lock(order_id)
    if order.status != Status.PICKED:
        raise PackSessionError(
            f"Order {order.number} is {order.status}: only a picked order is packed.", code="order_not_picked"
        )
    held = PackSession.objects.filter(order=order, status=PackSessionStatus.OPEN).select_related("packer").first()
    if held is not None:
        if held.packer_id != user.pk:
            raise _being_packed(held)
        if station and held.station != station:
            held.station = station  # the packer moved to another bench
            held.save(update_fields=["station"])
        return PackSessionOpened(session=held, created=False)
    if not selectors.picked_quantities(order=order):
        raise PackSessionError(f"Nothing was picked for order {order.number}.", code="order_not_picked")
    session = PackSession.objects.create(
        tenant_id=order.tenant_id,
        order=order,
        warehouse_id=order.warehouse_id,
        station=station,
        packer=user,
        opened_at=timezone.now(),
    )
    where = f" at {station}" if station else ""
    orders_services.order_note(
        order_id=order.pk,
        type="pack_session_opened",
        message=f"Packing started{where} by {actor.label}",
        data={"session": str(session.pk), "station": station},
        actor=actor.label,
    )
    return PackSessionOpened(session=session, created=True)


# -- scan -----------------------------------------------------------------------------------


def pack_session_scan(*, session_id, barcode: str, scan_id: str, user) -> PackScanOutcome:
    """One scan at the pack station: a unit's barcode (a GTIN, GS1 element string, other barcode or
    SKU; a case barcode counts its pack) goes into the current package; a box code starts the next
    package in that box (or gives the current package its box when it has none yet or is still empty).

    A resent ``scan_id`` answers its first outcome and changes nothing. Raises PackSessionError:
    ``not_in_order``, ``too_many``, ``unknown_barcode`` (422, recorded as refused scans, nothing
    else changed); ``session_not_open``, ``being_packed`` (another packer's session),
    ``scan_id_reused`` (409); ``required``/``invalid`` for input that is no scan (not recorded).
    """
    actor = _actor(user)
    scan_id = (scan_id or "").strip()
    barcode = (barcode or "").strip()
    if not scan_id or len(scan_id) > MAX_SCAN_ID:
        raise PackSessionError(
            f"each scan needs a scan_id of 1 to {MAX_SCAN_ID} characters", code="required", field="scan_id"
        )
    if not barcode:
        raise PackSessionError("Scan a barcode.", code="required", field="barcode")
    if len(barcode) > MAX_BARCODE:
        raise PackSessionError(f"a scan has at most {MAX_BARCODE} characters", code="invalid", field="barcode")
    session = _session(actor, session_id)
    refused = None
    try:
        with transaction.atomic():
            return _scan(session_id=session.pk, barcode=barcode, scan_id=scan_id, user=user)
    except _Refused as exc:
        refused = exc
    except IntegrityError:
        # The same scan id committed by a concurrent request after our check: it is a repeat.
        return _replay_committed(session, scan_id=scan_id, barcode=barcode)
    try:
        with transaction.atomic():
            current = PackSessionPackage.objects.filter(session=session).order_by("-number").first()
            PackScan.objects.create(
                tenant_id=session.tenant_id,
                session=session,
                package=current,
                scan_id=scan_id,
                barcode=barcode,
                result=PackScanResult.REFUSED,
                code=refused.code,
                message=refused.message[:300],
                user=user,
            )
    except IntegrityError:
        return _replay_committed(session, scan_id=scan_id, barcode=barcode)
    raise PackSessionError(refused.message, code=refused.code, field="barcode")


def _replay_committed(session: PackSession, *, scan_id: str, barcode: str) -> PackScanOutcome:
    previous = PackScan.objects.filter(session=session, scan_id=scan_id).first()
    if previous is None:
        raise PackSessionError("the scan could not be recorded; scan again", code="busy", status=409)
    return _replay(previous, barcode=barcode)


def _replay(previous: PackScan, *, barcode: str) -> PackScanOutcome:
    if previous.barcode != barcode:
        raise PackSessionError(
            "this scan id was already used for another scan; scan again", code="scan_id_reused", field="scan_id"
        )
    if previous.result == PackScanResult.REFUSED:
        raise PackSessionError(previous.message, code=previous.code, field="barcode")
    # Accepted (or accepted and undone since): answered as it was, counted once at most.
    return PackScanOutcome(scan=previous, replayed=True)


def _box(barcode: str) -> Box | None:
    box = Box.objects.filter(code=barcode, is_active=True).first()
    if box is None and barcode.upper() != barcode:
        box = Box.objects.filter(code=barcode.upper(), is_active=True).first()
    return box


def _scan(*, session_id, barcode: str, scan_id: str, user) -> PackScanOutcome:
    previous = PackScan.objects.filter(session_id=session_id, scan_id=scan_id).first()
    if previous is not None:
        return _replay(previous, barcode=barcode)
    session = locks.pack_session_lock(session_id=session_id)
    # A repeat of this scan may have committed while this one waited for the lock.
    previous = PackScan.objects.filter(session=session, scan_id=scan_id).first()
    if previous is not None:
        return _replay(previous, barcode=barcode)
    _check_packer(session, user)
    current = PackSessionPackage.objects.filter(session=session).order_by("-number").first()
    box = _box(barcode)
    if box is not None:
        # The box of the current package when it has none yet (units scanned before the box) or is
        # still empty (a box scanned twice: the second one is meant); else the next package.
        empty = (
            current is not None and not current.scans.filter(result=PackScanResult.ACCEPTED, sku__isnull=False).exists()
        )
        if current is not None and (empty or current.box_id is None):
            current.box = box
            current.save(update_fields=["box"])
        else:
            number = current.number + 1 if current else 1
            current = PackSessionPackage.objects.create(
                tenant_id=session.tenant_id, session=session, number=number, box=box
            )
        message = f"Package {current.number}: {box.code}."
        return PackScanOutcome(scan=_accepted(session, current, scan_id, barcode, user, message=message))
    sku, units = _unit(session, barcode)
    if current is None:
        current = PackSessionPackage.objects.create(tenant_id=session.tenant_id, session=session, number=1)
    scan = _accepted(session, current, scan_id, barcode, user, sku=sku, quantity=units, message=f"{sku} packed.")
    return PackScanOutcome(scan=scan)


def _unit(session: PackSession, barcode: str) -> tuple[str, int]:
    """(the SKU, units one scan counts) of a unit the order still needs; _Refused otherwise."""
    order = session.order
    try:
        product, units = scanning.resolve_product(session.tenant_id, scanning.parse_scan(barcode))
    except scanning.ScanError as exc:
        raise _Refused("unknown_barcode", f"Unknown barcode {barcode}: {exc.message}.") from None
    picked = selectors.picked_quantities(order=order)
    if product.sku not in picked:
        raise _Refused("not_in_order", f"{product.sku} is not in order {order.number}: put it aside.")
    scanned = selectors.scanned_units(session=session).get(product.sku, 0)
    if scanned + units > picked[product.sku]:
        counts = f" (this scan counts {units})" if units > 1 else ""
        raise _Refused(
            "too_many",
            f"One too many {product.sku}: {picked[product.sku]} to pack, {scanned} scanned{counts}. Put it aside.",
        )
    return product.sku, units


def _accepted(session, package, scan_id, barcode, user, *, sku=None, quantity=0, message="") -> PackScan:
    return PackScan.objects.create(
        tenant_id=session.tenant_id,
        session=session,
        package=package,
        scan_id=scan_id,
        barcode=barcode,
        sku=sku,
        quantity=quantity,
        result=PackScanResult.ACCEPTED,
        message=message[:300],
        user=user,
    )


@transaction.atomic
def pack_session_undo(*, session_id, user, scan: int | None = None) -> PackScan:
    """Take back a unit scan (the packer took the unit out again, or it went into the wrong parcel):
    ``scan`` (a PackScan id; default the last accepted unit scan) no longer counts, and is kept as
    ``undone`` for the record. Undoing a scan already undone changes nothing (a double tap).
    Raises PackSessionError: ``nothing_to_undo`` (422); ``session_not_open``, ``being_packed`` (409)."""
    actor = _actor(user)
    ref = _session(actor, session_id)
    session = locks.pack_session_lock(session_id=ref.pk)
    _check_packer(session, user)
    units = PackScan.objects.filter(session=session, sku__isnull=False)
    if scan is not None:
        last = units.filter(pk=scan).exclude(result=PackScanResult.REFUSED).first()
        if last is not None and last.result == PackScanResult.UNDONE:
            return last
    else:
        last = units.filter(result=PackScanResult.ACCEPTED).order_by("-created_at", "-id").first()
    if last is None:
        raise PackSessionError("There is no such unit scan to undo.", code="nothing_to_undo", field="scan")
    last.result = PackScanResult.UNDONE
    last.message = f"{last.sku} taken out again."
    last.save(update_fields=["result", "message"])
    return last


# -- close and abandon ------------------------------------------------------------------------


def _close_input(value) -> ClosePackageInput:
    if isinstance(value, ClosePackageInput):
        return value
    value = value or {}
    return ClosePackageInput(
        box=(value.get("box") or "").strip(),
        weight_g=value.get("weight_g"),
        override_reason=(value.get("override_reason") or "").strip(),
    )


def _missing_units(state: selectors.PackSessionState) -> PackSessionError:
    errors = [
        {
            "field": "scans",
            "code": "missing_units",
            "message": f"{unit.sku}: {unit.scanned} of {unit.quantity} scanned",
            "sku": unit.sku,
            "missing": unit.remaining,
        }
        for unit in state.missing
    ]
    count = sum(unit.remaining for unit in state.missing)
    return PackSessionError(
        f"{count} unit(s) are not scanned yet.",
        code="missing_units",
        errors=errors,
        extra={"missing_units": [{"sku": e["sku"], "quantity": e["missing"]} for e in errors]},
    )


@transaction.atomic
def pack_session_close(*, session_id, user, packages: list | None = None) -> PackSession:
    """Close the session: every unit scanned, each parcel weighed; the order is packed (``order_pack``,
    in this transaction) into a shipment with the scanned packages, label purchase starts on commit.

    ``packages``: one entry per package that holds units, in order (ClosePackageInput or
    ``{box?, weight_g?, override_reason?}``); None takes every package as scanned at its expected
    weight. A weight further from the expected one (units and box tare) than PACK_WEIGHT_TOLERANCE
    needs ``override_reason``, kept on the package and the order timeline. Raises PackSessionError:
    ``missing_units``, ``package_count``, ``box_required``, ``unknown_box``,
    ``weight_out_of_tolerance`` (422); ``session_not_open``, ``being_packed``, ``order_not_picked`` (409).
    """
    actor = _actor(user)
    ref = _session(actor, session_id)
    order = order_locks.order_lock(ref.order_id)
    session = locks.pack_session_lock(session_id=ref.pk)
    _check_packer(session, user)
    if order.status != Status.PICKED:
        raise PackSessionError(f"Order {order.number} is {order.status}: it cannot be packed.", code="order_not_picked")
    state = selectors.pack_session_state(session=session, recommended=False)
    if state.missing:
        raise _missing_units(state)
    filled = [package for package in state.packages if package.units > 0]
    inputs = [ClosePackageInput() for _ in filled] if packages is None else [_close_input(p) for p in packages]
    if len(inputs) != len(filled):
        raise PackSessionError(
            f"The session has {len(filled)} package(s): give one entry for each.",
            code="package_count",
            field="packages",
        )
    closing, errors = _weighed(filled, inputs, state)
    if errors:
        raise PackSessionError(errors[0]["message"], code=errors[0]["code"], errors=errors)
    rows = {row.number: row for row in PackSessionPackage.objects.filter(session=session)}
    for package in closing:
        row = rows[package["number"]]
        row.box, row.weight_g, row.override_reason = package["box"], package["weight_g"], package["override_reason"]
        row.save(update_fields=["box", "weight_g", "override_reason"])
    shipment = order_pack(
        order_id=order.pk,
        actor=actor.label,
        actor_obj=actor,
        pack_session=session,
        packages=[
            PackageInput(
                box=package["box"].code,
                weight_g=package["weight_g"],
                items=[PackItemInput(sku=sku, quantity=quantity) for sku, quantity in package["items"]],
            )
            for package in closing
        ],
    )
    session.status = PackSessionStatus.CLOSED
    session.closed_at = timezone.now()
    session.shipment = shipment
    session.save(update_fields=["status", "closed_at", "shipment"])
    overrides = [p for p in closing if p["override_reason"]]  # kept even when the weight was in tolerance
    message = f"Packed at {session.station or 'a pack station'} by {actor.label}: {len(closing)} package(s)"
    if overrides:
        reasons = "; ".join(
            f"package {p['number']} weighs {p['weight_g']} g: {p['override_reason']}" for p in overrides
        )
        message = f"{message}; weight override: {reasons}"
    orders_services.order_note(
        order_id=order.pk,
        type="pack_session_closed",
        message=message,
        data={
            "session": str(session.pk),
            "shipment": str(shipment.pk),
            "packages": [
                {
                    "number": p["number"],
                    "box": p["box"].code,
                    "weight_g": p["weight_g"],
                    "expected_weight_g": p["expected_weight_g"],
                    "override_reason": p["override_reason"],
                }
                for p in closing
            ],
        },
        actor=actor.label,
    )
    return session


def _weighed(filled, inputs, state) -> tuple[list[dict], list[dict]]:
    """(each package with its box, weight and reason, the errors): boxes and weights checked."""
    codes = {i.box for i in inputs if i.box}
    boxes = {b.code: b for b in Box.objects.filter(code__in=codes, is_active=True)}
    closing, errors = [], []
    for index, (package, given) in enumerate(zip(filled, inputs, strict=True)):
        field = f"packages[{index}]"
        box = package.box
        if given.box and (box is None or given.box != box.code):
            box = boxes.get(given.box)
            if box is None:
                errors.append(
                    {
                        "field": f"{field}.box",
                        "code": "unknown_box",
                        "message": f"unknown or inactive box {given.box!r}",
                    }
                )
                continue
        if box is None:
            errors.append(
                {"field": f"{field}.box", "code": "box_required", "message": f"Package {package.number} has no box."}
            )
            continue
        expected = state.weights.expected_g(package.items, box, first=index == 0)
        weight = expected if given.weight_g is None else given.weight_g
        allowed = state.tolerance.allowed_g(expected)
        reason = given.override_reason[:MAX_REASON]
        if weight <= 0:
            errors.append({"field": f"{field}.weight_g", "code": "min_value", "message": "weight_g must be positive"})
            continue
        if abs(weight - expected) > allowed and not reason:
            errors.append(
                {
                    "field": f"{field}.weight_g",
                    "code": "weight_out_of_tolerance",
                    "message": f"Package {package.number} weighs {weight} g but should weigh {expected} g "
                    f"(± {allowed} g): check its contents, or give a reason (override_reason) to ship it anyway.",
                    "weight_g": weight,
                    "expected_weight_g": expected,
                    "tolerance_g": allowed,
                }
            )
            continue
        closing.append(
            {
                "number": package.number,
                "box": box,
                "weight_g": weight,
                "expected_weight_g": expected,
                "override_reason": reason,
                "items": package.items,
            }
        )
    return closing, errors


@transaction.atomic
def pack_session_abandon(*, session_id, user, reason: str = "") -> PackSession:
    """Give up a session (its packer, or a manager of its warehouse): the order stays picked and
    anyone may open it again; the scans stay for the record. Raises PackSessionError:
    ``session_not_open`` (409), ``not_allowed`` (403)."""
    actor = _actor(user)
    ref = _session(actor, session_id)
    order_locks.order_lock(ref.order_id)
    session = locks.pack_session_lock(session_id=ref.pk)
    if session.status != PackSessionStatus.OPEN:
        raise PackSessionError(f"This pack session is {session.status}.", code="session_not_open")
    # A manager sees only the sessions of their warehouses (_session), so is_manager suffices here.
    if session.packer_id != user.pk and not actor.is_manager:
        raise PackSessionError(
            "Only its packer or a manager of the warehouse abandons a pack session.", code="not_allowed", status=403
        )
    session.status = PackSessionStatus.ABANDONED
    session.closed_at = timezone.now()
    session.save(update_fields=["status", "closed_at"])
    reason = (reason or "").strip()[:MAX_REASON]
    message = f"Packing at {session.station or 'a pack station'} abandoned by {actor.label}"
    orders_services.order_note(
        order_id=session.order_id,
        type="pack_session_abandoned",
        message=f"{message}: {reason}" if reason else message,
        data={"session": str(session.pk), "packer": session.packer.get_username(), "reason": reason},
        actor=actor.label,
    )
    return session
