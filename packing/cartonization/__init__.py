"""Cartonization: which boxes an order's units go into and where each unit sits. Pure functions
over plain data (specs.py); placement.py packs one box, choice.py chooses the boxes."""

from packing.cartonization.choice import cartonize
from packing.cartonization.specs import (
    DEFAULT_DIM_DIVISOR,
    IMPERIAL_DIM_DIVISOR,
    BoxSpec,
    ItemSpec,
    Placement,
    PlannedPackage,
    billable_weight_g,
    dim_divisor_mm3_per_g,
    dim_weight_g,
)

__all__ = [
    "DEFAULT_DIM_DIVISOR",
    "IMPERIAL_DIM_DIVISOR",
    "BoxSpec",
    "ItemSpec",
    "Placement",
    "PlannedPackage",
    "billable_weight_g",
    "cartonize",
    "dim_divisor_mm3_per_g",
    "dim_weight_g",
]
