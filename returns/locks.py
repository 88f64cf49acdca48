"""Row locks of the returns app (the house lock order: ARCHITECTURE.md and orders/locks.py; a
return is locked after its order row, its lines after the return)."""

from __future__ import annotations

from django.db.models import QuerySet

from returns.models import Return, ReturnLine


def return_qs_select_for_update() -> QuerySet[Return]:
    return Return.objects.select_for_update(no_key=True)


def return_lock(return_id) -> Return | None:
    """The return row, locked; None when there is none."""
    return return_qs_select_for_update().filter(pk=return_id).first()


def return_lines_lock(rma: Return) -> list[ReturnLine]:
    """The return's lines, locked in primary-key order."""
    return list(rma.lines.select_for_update(no_key=True).order_by("pk"))
