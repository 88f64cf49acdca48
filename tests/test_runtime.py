"""The runtime contract: health check, fail-fast settings, self-contained API docs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import OperationalError, connection

ROOT = Path(__file__).resolve().parent.parent

# -- /healthz ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_healthz_answers_200_when_the_database_is_reachable(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


@pytest.mark.django_db
def test_healthz_answers_503_when_the_database_is_unreachable(client, monkeypatch):
    def unreachable():
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", unreachable)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unreachable"}


@pytest.mark.django_db
def test_healthz_needs_no_login_and_no_https_redirect(client, settings):
    """Load balancers probe over plain HTTP even when every other page redirects to HTTPS."""
    settings.SECURE_SSL_REDIRECT = True

    response = client.get("/healthz")
    other = client.get("/login/")

    assert response.status_code == 200
    assert other.status_code == 301
    assert other["Location"] == "https://testserver/login/"


# -- the icon ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_pages_name_their_icon_and_favicon_ico_sets_no_cookie(client):
    """A browser asks /favicon.ico beside every page that names no icon; answered by the 404 page,
    that request minted a CSRF cookie which could overwrite the one a login form had just been given
    (the form then failed with 403). Pages name the icon, and /favicon.ico redirects to it."""
    login = client.get("/login/").content.decode()
    icon = re.search(r'<link rel="icon" href="([^"]+)"', login)
    ico = client.get("/favicon.ico")

    assert icon and icon.group(1).endswith("favicon.svg")
    assert client.get(icon.group(1)).status_code == 200
    assert ico.status_code == 301 and ico["Location"] == icon.group(1)
    assert "csrftoken" not in ico.cookies


# -- settings fail fast ----------------------------------------------------------------------

# Only what the test sets: no DATABASE_URL/REDIS_URL leaks in from the runner's environment.
_PASSTHROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR")


def _load_settings(tmp_path, code: str = "import django; django.setup(); print('settings ok')", **env):
    base = {name: os.environ[name] for name in _PASSTHROUGH if name in os.environ}
    base.update(
        {
            "DJANGO_SETTINGS_MODULE": "fulfillment.settings",
            "DJANGO_SECRET_KEY": "runtime-test-secret",
            "FULFILLMENT_VAR_DIR": str(tmp_path / "var"),
            "PYTHONPATH": str(ROOT),
            # Loading settings connects to nothing; without a URL they would start the local server.
            "DATABASE_URL": "postgres://app@127.0.0.1:5432/fulfillment",
        }
    )
    base.update(env)
    base = {name: value for name, value in base.items() if value is not None}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_worker_knows_every_task_the_beat_sends(tmp_path):
    """What `celery -A fulfillment worker` registers, in a fresh process (the test process has every
    tasks module imported already): each periodic task of the beat schedule."""
    code = (
        "import django; django.setup()\n"
        "from django.conf import settings\n"
        "from fulfillment.celery import app\n"
        "app.loader.import_default_modules()\n"
        "missing = sorted({e['task'] for e in settings.CELERY_BEAT_SCHEDULE.values()} - set(app.tasks))\n"
        "print('missing:', missing)"
    )
    result = _load_settings(tmp_path, code=code)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "missing: []"


def test_good_settings_load(tmp_path):
    result = _load_settings(tmp_path, DJANGO_DEBUG="0", API_RATE_LIMIT="100/min")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "settings ok"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DJANGO_DEBUG": "maybe"}, "DJANGO_DEBUG must be one of 1/0/true/false/yes/no/on/off, not 'maybe'"),
        ({"DJANGO_HTTPS": "sometimes"}, "DJANGO_HTTPS must be one of 1/0/true/false/yes/no/on/off, not 'sometimes'"),
        ({"API_RATE_LIMIT": "lots"}, "API_RATE_LIMIT must look like 600/min or be 'off', not 'lots'"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL must use one of ['pgsql', 'postgres', 'postgresql']"),
        ({"DATABASE_URL": "sqlite:///db.sqlite3"}, "DATABASE_URL must use one of ['pgsql', 'postgres', 'postgresql']"),
        ({"REDIS_URL": "amqp://guest@localhost//"}, "REDIS_URL must use one of ['redis', 'rediss']"),
        ({"WEBHOOK_ALLOWED_NETWORKS": "10.0.0.0/8,intranet"}, "WEBHOOK_ALLOWED_NETWORKS: 'intranet' is not a CIDR"),
        ({"WEBHOOK_TIMEOUT_SECONDS": "ten"}, "WEBHOOK_TIMEOUT_SECONDS must be an integer, not 'ten'"),
        ({"TRACKING_POLL_SECONDS": "0"}, "TRACKING_POLL_SECONDS must be at least 1, not 0"),
        (
            {"DJANGO_SECRET_KEY": None, "DJANGO_DEBUG": "0"},
            "DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off",
        ),
    ],
    ids=lambda value: next(iter(value)) if isinstance(value, dict) else None,
)
def test_bad_setting_stops_start_up_with_a_clear_message(tmp_path, env, message):
    result = _load_settings(tmp_path, **env)

    assert result.returncode != 0
    assert "settings ok" not in result.stdout
    assert "django.core.exceptions.ImproperlyConfigured: " + message in result.stderr


# -- OpenAPI schema and docs ----------------------------------------------------------------


@pytest.mark.django_db
def test_schema_answers_200_with_openapi_3(client):
    response = client.get("/api/schema/", headers={"Accept": "application/json"})

    assert response.status_code == 200
    body = response.json()
    assert body["openapi"].startswith("3.")
    assert body["info"]["title"] == "Fulfillment API"
    assert "/api/v1/orders/" in body["paths"]


@pytest.mark.django_db
def test_api_docs_load_nothing_from_other_hosts(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'<(?:script|link|img)\b[^>]*\b(?:src|href)="([^"]+)"', html)
    assert assets, "the Swagger UI page references no assets at all"
    external = [url for url in assets if re.match(r"^(?:[a-z]+:)?//", url, re.I)]
    assert external == []
    assert "cdn" not in html.lower()
    for url in assets:
        asset = client.get(url)
        assert asset.status_code == 200, url
        asset.close()
