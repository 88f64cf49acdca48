"""Every write of picking, by topic: waves (planning and release), picks (scans and confirmations)."""

from picking.services.common import PickingError
from picking.services.picks import next_task, pick_confirm
from picking.services.waves import wave_build

__all__ = ["PickingError", "next_task", "pick_confirm", "wave_build"]
