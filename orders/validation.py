"""Destination-country address rules for an order's ship_to: fulfillment.addresses (which
inventory's warehouse addresses use too), with errors named ``ship_to.<field>``."""

from __future__ import annotations

from fulfillment import addresses
from fulfillment.addresses import _library_rules, normalized_phone

__all__ = ["_library_rules", "address_check", "address_errors", "normalized_phone"]


def address_check(ship_to: dict) -> tuple[dict, list[dict]]:
    """(the normalised ship_to, [{field: "ship_to.<key>", code, message}]) by the destination country's rules."""
    return addresses.address_check(ship_to, prefix="ship_to.")


def address_errors(ship_to: dict) -> list[dict]:
    """[{field, code, message}] for a ship_to that fails its country's rules; [] when it passes."""
    return address_check(ship_to)[1]
