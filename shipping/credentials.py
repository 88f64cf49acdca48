"""Carrier credentials, encrypted at rest with Fernet (AES-128-CBC + HMAC-SHA256).

The keys come from ``CARRIER_CREDENTIALS_KEYS`` (comma-separated Fernet keys, the first one
encrypts, all decrypt, so that a key can be rotated: put the new key first, re-save the accounts
with ``manage.py rotate_carrier_credentials``, then drop the old key). Unset, a key is derived
from ``DJANGO_SECRET_KEY``, so that development works without one; production sets its own.
Make a key with ``python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"``.
"""

from __future__ import annotations

import base64
import hashlib
import json
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    if not keys:
        derived = hashlib.sha256(f"carrier-credentials:{secret_key}".encode()).digest()
        keys = (base64.urlsafe_b64encode(derived).decode(),)
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except (ValueError, TypeError) as error:
        raise ImproperlyConfigured("CARRIER_CREDENTIALS_KEYS must be Fernet keys (urlsafe base64, 32 bytes)") from error


def _current() -> MultiFernet:
    return _fernet(tuple(getattr(settings, "CARRIER_CREDENTIALS_KEYS", ()) or ()), settings.SECRET_KEY)


def encrypt(credentials: dict) -> str:
    if not credentials:
        return ""
    return _current().encrypt(json.dumps(credentials, sort_keys=True).encode()).decode()


def decrypt(token: str) -> dict:
    """The credentials; {} for none. ImproperlyConfigured when no configured key opens them."""
    if not token:
        return {}
    try:
        return json.loads(_current().decrypt(token.encode()))
    except InvalidToken as error:
        raise ImproperlyConfigured(
            "carrier credentials cannot be decrypted: CARRIER_CREDENTIALS_KEYS lacks the key they were saved with"
        ) from error


def rotate(token: str) -> str:
    """The same credentials encrypted with the first key."""
    return _current().rotate(token.encode()).decode() if token else ""
