"""Every write of picking, by topic: waves (planning and release), picks (confirmations, who picks a
list) and scans (the handheld's scan flow)."""

from picking.services.common import PickingError
from picking.services.picks import next_task, pick_confirm, pick_list_assign, pick_list_next
from picking.services.scans import (
    PickState,
    ScanRefused,
    ScanResult,
    ToteDrop,
    pick_scan,
    pick_state,
    void_dead_tasks,
    void_dead_tasks_everywhere,
)
from picking.services.waves import wave_build, wave_plan, wave_release, wave_schedule_save

__all__ = [
    "PickState",
    "PickingError",
    "ScanRefused",
    "ScanResult",
    "ToteDrop",
    "next_task",
    "pick_confirm",
    "pick_list_assign",
    "pick_list_next",
    "pick_scan",
    "pick_state",
    "void_dead_tasks",
    "void_dead_tasks_everywhere",
    "wave_build",
    "wave_plan",
    "wave_release",
    "wave_schedule_save",
]
