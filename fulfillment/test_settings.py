"""Settings for the test suite: the real settings with test-only defaults for unset variables."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only-not-secret")
os.environ.setdefault("DJANGO_HTTPS", "0")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")

from fulfillment.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STATIC_ROOT = None  # tests serve static files through the finders

# A worker started by the real-worker tests with TEST_CARRIER_DELAY_SECONDS takes that long inside
# every label purchase's carrier call, so that a test can kill it mid-call.
if os.environ.get("TEST_CARRIER_DELAY_SECONDS"):
    import time as _time

    from shipping.carriers import gateway as _gateway

    _buy = _gateway.buy
    _delay = float(os.environ["TEST_CARRIER_DELAY_SECONDS"])

    def _slow_buy(*args, **kwargs):
        _time.sleep(_delay)
        return _buy(*args, **kwargs)

    _gateway.buy = _slow_buy
