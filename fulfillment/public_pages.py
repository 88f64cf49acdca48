"""What the public pages (no login: the tracking page, the shoppers' returns portal) share: a rate
limit per client address, and the text colour that reads on a merchant's brand colour.

This sits in the kernel so that shipping and returns call one copy; it imports no app.
"""

from __future__ import annotations

import math
import time

from django.core.cache import cache

_PERIOD_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def retry_after(request, *, rate: str, scope: str) -> int | None:
    """Seconds until this client may ask again once over ``rate`` (as fulfillment.env.env_rate gives it: "30/m"; None: no limit),
    else None. A fixed window counted in the cache under ``scope``, so that each public page has
    its own budget. The client is REMOTE_ADDR: behind a proxy, the proxy must set it to the
    shopper's address."""
    if not rate:
        return None
    count, unit = rate.split("/")
    limit, period = int(count), _PERIOD_SECONDS[unit]
    now = time.time()
    window = int(now // period)
    key = f"{scope}:{period}:{window}:{request.META.get('REMOTE_ADDR', '')}"
    cache.add(key, 0, timeout=period)
    try:
        used = cache.incr(key)
    except ValueError:  # the entry expired between add and incr
        cache.set(key, 1, timeout=period)
        used = 1
    if used <= limit:
        return None
    return max(1, math.ceil((window + 1) * period - now))


def text_color(background: str) -> str:
    """Black or white, whichever reads better on ``background`` (#RRGGBB), by relative luminance."""
    red, green, blue = (int(background[i : i + 2], 16) / 255 for i in (1, 3, 5))

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    luminance = 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)
    return "#000000" if luminance > 0.179 else "#FFFFFF"
