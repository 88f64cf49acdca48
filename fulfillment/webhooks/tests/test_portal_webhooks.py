"""Webhooks in the merchant portal and the delivery rules behind it: backoff with jitter, disabling
after days of failures, re-enabling, manual retry (service, page and API)."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from fulfillment.tenancy.services import merchant_user_create
from fulfillment.tenancy.tests.factories import TenantFactory, tenant_with_key
from fulfillment.webhooks import services
from fulfillment.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db

PAGE = "/portal/webhooks/"
PASSWORD = "pass-word-123"
PUBLIC = "https://93.184.215.14/hooks"

# ``acme`` and ``merchant_client`` (logged in as acme-web) come from the root conftest.py.


def _publish(tenant, type="order.shipped"):
    return services.event_publish(tenant_id=tenant.pk, type=type, data={"id": "o-1"})


def _failed_delivery(tenant, receiver, *, attempts=len(services.BACKOFF)):
    """An endpoint on the receiver and one delivery that gave up after ``attempts`` (HTTP 500)."""
    endpoint = services.endpoint_create(tenant_id=tenant.pk, url=receiver.url, events=[])
    _publish(tenant)
    deliveries = WebhookDelivery.objects.filter(endpoint=endpoint)
    deliveries.update(attempts=attempts)
    receiver.status = 500
    assert services.delivery_attempt(delivery_id=deliveries.get().pk) == "failed"
    receiver.requests.clear()
    return endpoint, deliveries.get()


# -- backoff with jitter -------------------------------------------------------------------------


def test_backoff_grows_exponentially_and_gives_up_after_about_two_days():
    steps = services.BACKOFF
    assert steps[0] == 5
    assert all(later >= 2 * earlier for earlier, later in zip(steps, steps[1:], strict=False))
    assert timedelta(days=1) < timedelta(seconds=sum(steps)) < timedelta(days=3)


def test_retry_delay_adds_up_to_20_percent_jitter(monkeypatch):
    calls = []

    def uniform(low, high):
        calls.append((low, high))
        return high

    monkeypatch.setattr(services.random, "uniform", uniform)

    assert [services.retry_delay(n) for n in (1, 2, 10)] == [6.0, 36.0, 24 * 3600 * 1.2]
    assert calls == [(1.0, 1.2)] * 3


def test_failed_attempt_is_rescheduled_with_the_jittered_delay(receiver, loopback_allowed, monkeypatch, acme):
    monkeypatch.setattr(services.random, "uniform", lambda low, high: 1.1)
    services.endpoint_create(tenant_id=acme.pk, url=receiver.url, events=[])
    _publish(acme)
    receiver.status = 503
    WebhookDelivery.objects.update(attempts=2)  # the third attempt: 120 s, plus 10 % jitter
    before = timezone.now()

    services.delivery_attempt(delivery_id=WebhookDelivery.objects.get().pk)

    delivery = WebhookDelivery.objects.get()
    assert delivery.attempts == 3
    assert before + timedelta(seconds=132) <= delivery.next_attempt_at <= timezone.now() + timedelta(seconds=132)


# -- disabled after days of failures -------------------------------------------------------------


def test_first_failure_starts_the_clock_and_a_success_stops_it(receiver, loopback_allowed, acme):
    endpoint = services.endpoint_create(tenant_id=acme.pk, url=receiver.url, events=[])
    _publish(acme)
    receiver.status = 500
    services.delivery_attempt(delivery_id=WebhookDelivery.objects.get().pk)
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.failing_since is not None

    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    receiver.status = 200
    assert services.delivery_attempt(delivery_id=WebhookDelivery.objects.get().pk) == "succeeded"

    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.failing_since is None


def test_endpoint_failing_for_the_set_days_is_disabled_with_a_reason(receiver, loopback_allowed, acme, settings):
    settings.WEBHOOK_DISABLE_AFTER_DAYS = 3
    endpoint = services.endpoint_create(tenant_id=acme.pk, url=receiver.url, events=[])
    _publish(acme)
    receiver.status = 500
    WebhookEndpoint.objects.update(failing_since=timezone.now() - timedelta(days=3, minutes=1))

    status = services.delivery_attempt(delivery_id=WebhookDelivery.objects.get().pk)

    endpoint.refresh_from_db()
    delivery = WebhookDelivery.objects.get()
    assert status == "failed"
    assert (endpoint.is_active, endpoint.disabled_reason) == (False, "every delivery failed for 3 days")
    assert endpoint.disabled_at is not None
    assert (delivery.status, delivery.next_attempt_at, delivery.last_status_code) == ("failed", None, 500)
    # New events make no deliveries to it.
    _publish(acme)
    assert WebhookDelivery.objects.count() == 1


def test_endpoint_failing_for_less_than_the_set_days_stays_active(receiver, loopback_allowed, acme, settings):
    settings.WEBHOOK_DISABLE_AFTER_DAYS = 3
    endpoint = services.endpoint_create(tenant_id=acme.pk, url=receiver.url, events=[])
    _publish(acme)
    receiver.status = 500
    WebhookEndpoint.objects.update(failing_since=timezone.now() - timedelta(days=2, hours=23))

    assert services.delivery_attempt(delivery_id=WebhookDelivery.objects.get().pk) == "pending"

    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.disabled_reason == ""


def test_enabling_an_endpoint_resets_it_and_requeues_nothing(receiver, loopback_allowed, acme):
    endpoint, delivery = _failed_delivery(acme, receiver)
    WebhookEndpoint.objects.update(
        is_active=False, disabled_reason="every delivery failed for 3 days", disabled_at=timezone.now()
    )

    services.endpoint_enable(endpoint_id=endpoint.pk, tenant_id=acme.pk)

    endpoint.refresh_from_db()
    assert (endpoint.is_active, endpoint.disabled_reason, endpoint.disabled_at, endpoint.failing_since) == (
        True,
        "",
        None,
        None,
    )
    delivery.refresh_from_db()
    assert delivery.status == "failed" and receiver.requests == []


def test_enabling_another_tenants_endpoint_is_not_found(acme):
    endpoint = services.endpoint_create(tenant_id=TenantFactory().pk, url=PUBLIC, events=[])
    WebhookEndpoint.objects.update(is_active=False)

    with pytest.raises(services.NotFound):
        services.endpoint_enable(endpoint_id=endpoint.pk, tenant_id=acme.pk)

    assert WebhookEndpoint.objects.get().is_active is False


# -- manual retry (service) ----------------------------------------------------------------------


def test_retry_requeues_a_failed_delivery_now_and_keeps_its_history(
    receiver, loopback_allowed, acme, django_capture_on_commit_callbacks
):
    _, delivery = _failed_delivery(acme, receiver)
    receiver.status = 200

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.delivery_retry(delivery_id=delivery.pk, tenant_id=acme.pk)

    assert len(callbacks) == 1  # the deliver_webhook task, run eagerly
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 12, 200)
    assert len(receiver.requests) == 1


def test_retry_of_an_exhausted_delivery_that_fails_again_gives_up_at_once(
    receiver, loopback_allowed, acme, django_capture_on_commit_callbacks
):
    _, delivery = _failed_delivery(acme, receiver)

    with django_capture_on_commit_callbacks(execute=True):
        services.delivery_retry(delivery_id=delivery.pk, tenant_id=acme.pk)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at, delivery.last_error) == (
        "failed",
        12,
        None,
        "HTTP 500",
    )


def test_retry_brings_a_pending_delivery_forward(receiver, loopback_allowed, acme):
    services.endpoint_create(tenant_id=acme.pk, url=receiver.url, events=[])
    _publish(acme)
    receiver.status = 500
    services.delivery_attempt(delivery_id=WebhookDelivery.objects.get().pk)
    assert services.deliveries_due() == []

    services.delivery_retry(delivery_id=WebhookDelivery.objects.get().pk, tenant_id=acme.pk)

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert services.deliveries_due() == [str(delivery.pk)]


def test_retry_of_a_delivered_delivery_is_refused_and_changes_nothing(receiver, loopback_allowed, acme):
    services.endpoint_create(tenant_id=acme.pk, url=receiver.url, events=[])
    _publish(acme)
    services.delivery_attempt(delivery_id=WebhookDelivery.objects.get().pk)
    before = WebhookDelivery.objects.values().get()

    with pytest.raises(services.WebhookError, match="already succeeded") as refused:
        services.delivery_retry(delivery_id=before["id"], tenant_id=acme.pk)

    assert refused.value.code == "already_delivered"
    assert WebhookDelivery.objects.values().get() == before


def test_retry_to_a_disabled_endpoint_is_refused(receiver, loopback_allowed, acme):
    _, delivery = _failed_delivery(acme, receiver)
    WebhookEndpoint.objects.update(is_active=False, disabled_reason="the endpoint answered 410 Gone")

    with pytest.raises(services.WebhookError) as refused:
        services.delivery_retry(delivery_id=delivery.pk, tenant_id=acme.pk)

    assert refused.value.code == "endpoint_disabled"
    delivery.refresh_from_db()
    assert delivery.status == "failed"


@pytest.mark.parametrize("delivery_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_retry_of_an_unknown_delivery_is_not_found(acme, delivery_id):
    with pytest.raises(services.NotFound):
        services.delivery_retry(delivery_id=delivery_id, tenant_id=acme.pk)


def test_retry_of_another_tenants_delivery_is_not_found(receiver, loopback_allowed, acme):
    _, delivery = _failed_delivery(TenantFactory(slug="globex"), receiver)

    with pytest.raises(services.NotFound):
        services.delivery_retry(delivery_id=delivery.pk, tenant_id=acme.pk)

    delivery.refresh_from_db()
    assert delivery.status == "failed"


# -- API -----------------------------------------------------------------------------------------

DELIVERIES = "/api/v1/webhook-deliveries/"


def test_deliveries_api_lists_filters_and_scopes(api_as, receiver, loopback_allowed):
    tenant, key = tenant_with_key(slug="acme")
    first = services.endpoint_create(tenant_id=tenant.pk, url=receiver.url, events=["order.shipped"])
    second = services.endpoint_create(tenant_id=tenant.pk, url=PUBLIC, events=["order.created"])
    _publish(tenant, "order.shipped")
    _publish(tenant, "order.created")
    services.delivery_attempt(delivery_id=WebhookDelivery.objects.get(endpoint=first).pk)  # succeeds
    stranger = TenantFactory(slug="globex")
    services.endpoint_create(tenant_id=stranger.pk, url=PUBLIC, events=[])
    _publish(stranger)
    client = api_as(key)

    everything = client.get(DELIVERIES).json()
    of_second = client.get(DELIVERIES, {"endpoint": str(second.pk)}).json()
    succeeded = client.get(DELIVERIES, {"status": "succeeded"}).json()
    both = client.get(f"{DELIVERIES}?status=succeeded&status=pending").json()
    bad = client.get(DELIVERIES, {"status": "exploded"})

    assert {row["endpoint"] for row in everything["results"]} == {str(first.pk), str(second.pk)}
    assert set(everything) == {"results", "next", "previous"}
    assert [row["event_type"] for row in of_second["results"]] == ["order.created"]
    assert [(row["endpoint"], row["status"]) for row in succeeded["results"]] == [(str(first.pk), "succeeded")]
    assert len(both["results"]) == 2
    assert bad.status_code == 422 and bad["Content-Type"] == "application/problem+json"
    assert [e["field"] for e in bad.json()["errors"]] == ["status"]


def test_retry_api_answers_202_and_the_delivery_is_attempted(
    api_as, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    tenant, key = tenant_with_key(slug="acme")
    _, delivery = _failed_delivery(tenant, receiver)
    receiver.status = 204

    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(key).post(f"{DELIVERIES}{delivery.pk}/retry/")

    assert response.status_code == 202
    assert response.json()["id"] == str(delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("succeeded", 12)
    assert len(receiver.requests) == 1


def test_retry_api_refuses_a_delivered_one_with_409_and_another_tenants_with_404(api_as, receiver, loopback_allowed):
    tenant, key = tenant_with_key(slug="acme")
    services.endpoint_create(tenant_id=tenant.pk, url=receiver.url, events=[])
    _publish(tenant)
    mine = WebhookDelivery.objects.get()
    services.delivery_attempt(delivery_id=mine.pk)
    _, theirs = _failed_delivery(TenantFactory(slug="globex"), receiver)

    delivered = api_as(key).post(f"{DELIVERIES}{mine.pk}/retry/")
    foreign = api_as(key).post(f"{DELIVERIES}{theirs.pk}/retry/")

    assert delivered.status_code == 409
    assert delivered["Content-Type"] == "application/problem+json"
    assert "already succeeded" in delivered.json()["detail"]
    assert foreign.status_code == 404
    assert api_as(key).get(f"{DELIVERIES}{theirs.pk}/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "failed"


def test_enable_api_turns_a_disabled_endpoint_back_on(api_as):
    tenant, key = tenant_with_key(slug="acme")
    endpoint = services.endpoint_create(tenant_id=tenant.pk, url=PUBLIC, events=[])
    WebhookEndpoint.objects.update(is_active=False, disabled_reason="the endpoint answered 410 Gone")
    _, stranger_key = tenant_with_key(slug="globex")

    assert api_as(stranger_key).post(f"/api/v1/webhook-endpoints/{endpoint.pk}/enable/").status_code == 404
    response = api_as(key).post(f"/api/v1/webhook-endpoints/{endpoint.pk}/enable/")

    assert response.status_code == 200
    assert (response.json()["is_active"], response.json()["disabled_reason"]) == (True, "")


# -- portal pages --------------------------------------------------------------------------------


def test_create_shows_the_secret_once(merchant_client, acme):
    response = merchant_client.post(PAGE, {"url": PUBLIC, "events": ["order.shipped", "order.delivered"]}, follow=True)

    endpoint = WebhookEndpoint.objects.get()
    assert response.redirect_chain == [(f"/portal/webhooks/{endpoint.pk}/", 302)]
    assert (endpoint.tenant_id, endpoint.url, endpoint.events) == (
        acme.pk,
        PUBLIC,
        ["order.shipped", "order.delivered"],
    )
    assert endpoint.secret in response.content.decode()
    again = merchant_client.get(f"/portal/webhooks/{endpoint.pk}/").content.decode()
    assert endpoint.secret not in again and PUBLIC in again
    assert endpoint.secret not in merchant_client.get(PAGE).content.decode()


def test_create_offers_every_event_of_the_api(merchant_client):
    html = merchant_client.get(PAGE).content.decode()

    assert re.findall(r'name="events" value="([\w.]+)"', html) == services.EVENT_TYPES


def test_create_with_no_event_ticked_means_every_event(merchant_client):
    merchant_client.post(PAGE, {"url": PUBLIC})

    assert WebhookEndpoint.objects.get().events == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"url": "http://127.0.0.1/hook"}, "resolves to a non-public address"),
        ({"url": "not a url"}, "Enter a valid URL."),
        ({"url": PUBLIC, "events": ["order.exploded"]}, "Select a valid choice."),
    ],
)
def test_bad_endpoint_is_a_form_error_and_creates_nothing(merchant_client, data, message):
    response = merchant_client.post(PAGE, data)

    assert response.status_code == 422
    assert message in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_delete_asks_first_then_removes_the_endpoint(merchant_client, acme):
    endpoint = services.endpoint_create(tenant_id=acme.pk, url=PUBLIC, events=[])
    url = f"/portal/webhooks/{endpoint.pk}/delete/"

    assert merchant_client.get(url).status_code == 200
    assert WebhookEndpoint.objects.exists()
    response = merchant_client.post(url)

    assert response.status_code == 302 and response["Location"] == PAGE
    assert not WebhookEndpoint.objects.exists()


def test_other_tenants_endpoint_and_delivery_are_404(merchant_client, receiver, loopback_allowed):
    endpoint, delivery = _failed_delivery(TenantFactory(slug="globex"), receiver)

    assert merchant_client.get(f"/portal/webhooks/{endpoint.pk}/").status_code == 404
    assert merchant_client.post(f"/portal/webhooks/{endpoint.pk}/delete/").status_code == 404
    assert merchant_client.post(f"/portal/webhooks/{endpoint.pk}/enable/").status_code == 404
    assert merchant_client.post(f"/portal/webhooks/deliveries/{delivery.pk}/retry/").status_code == 404
    assert str(endpoint.pk) not in merchant_client.get(PAGE).content.decode()
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    delivery.refresh_from_db()
    assert delivery.status == "failed"


def test_delivery_log_shows_event_status_attempts_last_answer_and_a_retry_button(
    merchant_client, acme, receiver, loopback_allowed
):
    endpoint, delivery = _failed_delivery(acme, receiver)

    html = merchant_client.get(f"/portal/webhooks/{endpoint.pk}/").content.decode()

    row = re.search(rf'<tr data-delivery="{delivery.pk}" data-status="failed">(.*?)</tr>', html, re.S).group(1)
    assert "order.shipped" in row
    assert '<td class="num">11</td>' in row
    assert '<span class="mono">500</span>' in row and "HTTP 500" in row
    assert f'action="/portal/webhooks/deliveries/{delivery.pk}/retry/"' in row
    assert "csrfmiddlewaretoken" in row


def test_delivery_log_filters_by_status(merchant_client, acme, receiver, loopback_allowed):
    endpoint, delivery = _failed_delivery(acme, receiver)

    failed = merchant_client.get(f"/portal/webhooks/{endpoint.pk}/", {"status": "failed"}).content.decode()
    succeeded = merchant_client.get(f"/portal/webhooks/{endpoint.pk}/", {"status": "succeeded"}).content.decode()

    assert f'data-delivery="{delivery.pk}"' in failed
    assert f'data-delivery="{delivery.pk}"' not in succeeded


def test_retry_now_button_requeues_and_the_delivery_is_attempted(
    merchant_client, acme, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    endpoint, delivery = _failed_delivery(acme, receiver)
    receiver.status = 200

    with django_capture_on_commit_callbacks(execute=True):
        response = merchant_client.post(f"/portal/webhooks/deliveries/{delivery.pk}/retry/", follow=True)

    assert response.redirect_chain == [(f"/portal/webhooks/{endpoint.pk}/", 302)]
    assert "Delivery queued" in response.content.decode()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SUCCEEDED, 12)
    assert len(receiver.requests) == 1


def test_retry_now_of_a_delivered_one_shows_the_error_and_changes_nothing(
    merchant_client, acme, receiver, loopback_allowed
):
    endpoint = services.endpoint_create(tenant_id=acme.pk, url=receiver.url, events=[])
    _publish(acme)
    services.delivery_attempt(delivery_id=WebhookDelivery.objects.get().pk)
    before = WebhookDelivery.objects.values().get()

    response = merchant_client.post(f"/portal/webhooks/deliveries/{before['id']}/retry/", follow=True)

    html = response.content.decode()
    assert "Not retried: this delivery already succeeded" in html
    assert WebhookDelivery.objects.values().get() == before
    assert len(receiver.requests) == 1
    assert ">Retry now</button>" not in html  # no button on a delivered one
    assert endpoint.url in html


def test_disabled_endpoint_shows_why_and_can_be_enabled_again(merchant_client, acme, receiver, loopback_allowed):
    endpoint, delivery = _failed_delivery(acme, receiver)
    WebhookEndpoint.objects.update(
        is_active=False, disabled_reason="every delivery failed for 3 days", disabled_at=timezone.now()
    )

    page = merchant_client.get(f"/portal/webhooks/{endpoint.pk}/").content.decode()
    assert "every delivery failed for 3 days" in page
    assert "re-queues nothing by itself" in page
    assert ">Retry now</button>" not in page  # enable first
    assert "disabled" in merchant_client.get(PAGE).content.decode()

    response = merchant_client.post(f"/portal/webhooks/{endpoint.pk}/enable/", follow=True)

    endpoint.refresh_from_db()
    delivery.refresh_from_db()
    assert endpoint.is_active and endpoint.disabled_reason == ""
    assert delivery.status == "failed" and receiver.requests == []
    assert "Failed deliveries are not re-sent by themselves" in response.content.decode()
    assert ">Retry now</button>" in response.content.decode()


def test_posts_without_a_csrf_token_are_refused(acme, receiver, loopback_allowed):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(merchant_user_create(tenant=acme, username="acme-web", password=PASSWORD))
    endpoint, delivery = _failed_delivery(acme, receiver)

    assert strict.post(PAGE, {"url": PUBLIC}).status_code == 403
    assert strict.post(f"/portal/webhooks/{endpoint.pk}/delete/").status_code == 403
    assert strict.post(f"/portal/webhooks/deliveries/{delivery.pk}/retry/").status_code == 403
    assert WebhookEndpoint.objects.count() == 1
    delivery.refresh_from_db()
    assert delivery.status == "failed"
