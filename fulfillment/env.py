"""Settings read from the environment, validated so that a bad value stops start-up."""

from __future__ import annotations

import ipaddress
import os
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0/true/false/yes/no/on/off, not {raw!r}")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


_RATE = re.compile(r"^(\d+)/(s|sec|second|m|min|minute|h|hour|d|day)$")


def env_rate(name: str, default: str) -> str | None:
    """A DRF throttle rate such as ``600/min``, or None for ``off``."""
    raw = os.environ.get(name, default).strip().lower()
    if raw in {"off", "none", "0"}:
        return None
    match = _RATE.match(raw)
    if not match or int(match.group(1)) <= 0:
        raise ImproperlyConfigured(f"{name} must look like 600/min or be 'off', not {raw!r}")
    return f"{match.group(1)}/{match.group(2)[0]}"


def env_networks(name: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    networks = []
    for item in env_list(name, []):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ImproperlyConfigured(f"{name}: {item!r} is not a CIDR network") from None
    return networks


def env_url(name: str, *, schemes: set[str]) -> str:
    raw = os.environ.get(name, "").strip()
    if raw and raw.split("://", 1)[0] not in schemes:
        raise ImproperlyConfigured(f"{name} must use one of {sorted(schemes)}, not {raw!r}")
    return raw


class WeightTolerance(NamedTuple):
    """How far a weighed parcel may be from its expected weight: the larger of ``percent`` of the
    expected weight and ``grams`` (either may be 0)."""

    percent: Decimal
    grams: int

    def allowed_g(self, expected_g: int) -> int:
        """The largest difference allowed, in grams, for a parcel expected to weigh ``expected_g``."""
        by_share = int((Decimal(expected_g) * self.percent / 100).to_integral_value(rounding=ROUND_HALF_UP))
        return max(by_share, self.grams)

    def __str__(self) -> str:
        return f"{self.percent.normalize():f}%,{self.grams}g"


_TOLERANCE_PART = re.compile(r"^(?:(\d+(?:\.\d+)?)\s*%|(\d+)\s*g)$")


def env_weight_tolerance(name: str, default: str) -> WeightTolerance:
    """A weight tolerance such as ``10%,50g`` (the larger of the two), ``10%`` or ``50g``."""
    raw = os.environ.get(name, default).strip().lower()
    percent, grams = None, None
    for part in (p.strip() for p in raw.split(",")):
        match = _TOLERANCE_PART.match(part)
        if not match or (match.group(1) is not None and percent is not None) or (match.group(2) and grams is not None):
            raise ImproperlyConfigured(f"{name} must look like 10%,50g (a percentage, grams or both), not {raw!r}")
        if match.group(1) is not None:
            percent = Decimal(match.group(1))
        else:
            grams = int(match.group(2))
    if percent is not None and percent > 100:
        raise ImproperlyConfigured(f"{name}: a percentage of at most 100, not {percent}")
    return WeightTolerance(percent=percent or Decimal(0), grams=grams or 0)
