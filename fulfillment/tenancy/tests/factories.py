import factory
from django.test import Client

from fulfillment.tenancy import services
from fulfillment.tenancy.models import Tenant


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant

    slug = factory.Sequence(lambda n: f"merchant-{n}")
    name = factory.Sequence(lambda n: f"Merchant {n}")


def tenant_with_key(**kwargs) -> tuple[Tenant, str]:
    """A tenant and a raw API key for it."""
    tenant = TenantFactory(**kwargs)
    _, raw = services.api_key_create(tenant=tenant)
    return tenant, raw


def staff_with_token(*, username: str, role: str = "manager", warehouse=None):
    """A staff user (optionally assigned to a warehouse) and a raw staff token."""
    user, raw = services.staff_create(username=username, password="pass-word-123", role=role)
    if warehouse is not None:
        warehouse.staff.add(user)
    return user, raw


def staff_client(username: str, role: str, warehouse) -> Client:
    """A test client logged in as a new staff user of ``warehouse`` (see staff_with_token)."""
    staff_with_token(username=username, role=role, warehouse=warehouse)
    client = Client()
    assert client.login(username=username, password="pass-word-123")
    return client


def image_bytes(size=(60, 24), *, kind: str = "PNG", color=(31, 111, 235), noise: bool = False) -> bytes:
    """A small image drawn with Pillow (``noise``: random pixels, which compress badly: a large file)."""
    import io
    import os

    from PIL import Image

    if noise:
        image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    else:
        image = Image.new("RGB", size, color)
    out = io.BytesIO()
    image.save(out, format=kind)
    return out.getvalue()
