"""Shared test set-up: database report, row-level-security scope, Celery mode, API clients."""

from __future__ import annotations

import os
from datetime import datetime

import pytest
from django.conf import settings

from fulfillment.celery import app as celery_app


def pytest_configure(config):
    """``TEST_CLOCK=2026-12-07T04:23:00+00:00 make test``: the whole run starts at that instant
    (the clock then ticks on), to prove that no test depends on the hour, the day of the week or
    the local date it happens to run at. Tests that need a fixed time freeze it themselves."""
    clock = os.environ.get("TEST_CLOCK")
    if clock:
        import time_machine

        config._test_clock = time_machine.travel(datetime.fromisoformat(clock), tick=True)
        config._test_clock.start()


def pytest_unconfigure(config):
    if getattr(config, "_test_clock", None) is not None:
        config._test_clock.stop()


def pytest_report_header(config):
    db = settings.DATABASES["default"]
    where = "embedded (var/pgdata)" if db.get("HOST", "").startswith("/") else f"{db.get('HOST')}:{db.get('PORT')}"
    lines = [f"database: PostgreSQL {where}, as role {settings.DATABASE_APP_ROLE} under row-level security"]
    if os.environ.get("TEST_CLOCK"):
        lines.append(f"clock: the run starts at {os.environ['TEST_CLOCK']} (TEST_CLOCK)")
    return lines


def pytest_collection_modifyitems(config, items):
    skip_redis = pytest.mark.skip(reason="needs Redis: set REDIS_URL (CI does)")
    for item in items:
        if "celery_worker" in item.keywords and not settings.REDIS_URL:
            item.add_marker(skip_redis)


@pytest.fixture(autouse=True)
def _operator_scope():
    """Test set-up and checks see every tenant (row-level security's operator scope); a request
    through a test client runs in its actor's scope, and ``rls.use(...)`` narrows it in a test."""
    from fulfillment.tenancy import rls

    with rls.operator():
        yield


@pytest.fixture(autouse=True)
def _eager_celery(settings):
    """Tasks run in-process, when their transaction commits (tests opt in to a real worker)."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    settings.API_RATE_LIMIT = None
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture(autouse=True)
def _reference_data(request):
    """Transactional tests empty every table afterwards, including the rows data migrations made
    (box catalog, generic carrier account): put them back before each such test."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not (marker.kwargs.get("transaction") or (marker.args and marker.args[0])):
        return
    request.getfixturevalue("transactional_db")
    from billing.tests.factories import ensure_default_rate_card
    from packing.tests.factories import ensure_default_boxes
    from shipping.tests.factories import ensure_default_carrier

    ensure_default_boxes()
    ensure_default_carrier()
    ensure_default_rate_card()


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield


PORTAL_PASSWORD = "pass-word-123"


@pytest.fixture
def api():
    """An unauthenticated DRF client; ``api_as(key)`` gives an authenticated one."""
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def api_as():
    from rest_framework.test import APIClient

    def make(raw_key: str) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
        return client

    return make


@pytest.fixture
def acme():
    """A merchant tenant, slug "acme"."""
    from fulfillment.tenancy.tests.factories import TenantFactory

    return TenantFactory(slug="acme")


@pytest.fixture
def merchant_client(client, acme):
    """The test client logged in to the merchant portal as acme's user "acme-web"."""
    from fulfillment.tenancy.services import merchant_user_create

    client.force_login(merchant_user_create(tenant=acme, username="acme-web", password=PORTAL_PASSWORD))
    return client


@pytest.fixture
def page(live_server, monkeypatch):
    """A Chromium page at a 360 x 740 touch viewport (a handheld), against the live test server."""
    sync_api = pytest.importorskip("playwright.sync_api")
    from tests.browser import CHROMIUM

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # the ORM is used between Playwright calls
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        context = browser.new_context(viewport={"width": 360, "height": 740}, has_touch=True, is_mobile=True)
        yield context.new_page()
        browser.close()
