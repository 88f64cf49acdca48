import pytest

from fulfillment.tenancy.tests.factories import staff_with_token, tenant_with_key
from fulfillment.webhooks import services
from fulfillment.webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db

URL = "/api/v1/webhook-endpoints/"
# A public address literal: valid without a DNS lookup.
PUBLIC = "https://93.184.215.14/hooks"


@pytest.fixture
def merchant():
    return tenant_with_key(slug="acme")


def _fields(response):
    return [(e["field"], e["code"]) for e in response.json()["errors"]]


def test_create_shows_the_secret_once_and_reads_never_do(merchant, api_as):
    tenant, key = merchant
    client = api_as(key)

    created = client.post(URL, {"url": PUBLIC, "events": ["order.shipped", "return.received"]}, format="json")

    assert created.status_code == 201
    endpoint = WebhookEndpoint.objects.get()
    body = created.json()
    assert body == {
        "id": str(endpoint.id),
        "url": PUBLIC,
        "events": ["order.shipped", "return.received"],
        "is_active": True,
        "disabled_reason": "",
        "disabled_at": None,
        "created_at": body["created_at"],
        "secret": endpoint.secret,
    }
    assert body["secret"].startswith("whsec_")
    detail = client.get(f"{URL}{endpoint.id}/").json()
    listed = client.get(URL).json()["results"]
    assert "secret" not in detail and detail["id"] == str(endpoint.id)
    assert [set(row) for row in listed] == [
        {"id", "url", "events", "is_active", "disabled_reason", "disabled_at", "created_at"}
    ]
    assert endpoint.tenant_id == tenant.pk


def test_missing_events_means_every_event_and_duplicates_are_dropped(merchant, api_as):
    client = api_as(merchant[1])

    every = client.post(URL, {"url": PUBLIC}, format="json").json()
    twice = client.post(URL, {"url": PUBLIC, "events": ["order.created", "order.created"]}, format="json").json()

    assert every["events"] == []
    assert twice["events"] == ["order.created"]


def test_unknown_event_is_422_naming_it_and_creates_nothing(merchant, api_as):
    response = api_as(merchant[1]).post(
        URL, {"url": PUBLIC, "events": ["order.created", "order.exploded"]}, format="json"
    )

    assert response.status_code == 422
    assert _fields(response) == [("events[1]", "unknown_event")]
    assert WebhookEndpoint.objects.count() == 0


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8000/hook", "http://10.1.2.3/hook", "http://[::1]/hook", "http://169.254.169.254/latest"],
)
def test_private_or_loopback_url_is_422_and_creates_nothing(merchant, api_as, url):
    response = api_as(merchant[1]).post(URL, {"url": url, "events": []}, format="json")

    assert response.status_code == 422
    assert _fields(response) == [("url", "url_not_allowed")]
    assert WebhookEndpoint.objects.count() == 0


def test_non_http_url_is_422(merchant, api_as):
    response = api_as(merchant[1]).post(URL, {"url": "ftp://93.184.215.14/hook"}, format="json")

    assert response.status_code == 422
    assert _fields(response) == [("url", "url_not_allowed")]


def test_loopback_is_accepted_when_the_network_is_allowed(merchant, api_as, loopback_allowed):
    response = api_as(merchant[1]).post(URL, {"url": "http://127.0.0.1:8000/hook"}, format="json")

    assert response.status_code == 201


def test_staff_token_is_refused(merchant, api_as):
    _, token = staff_with_token(username="alice")

    assert api_as(token).get(URL).status_code == 403
    assert api_as(token).post(URL, {"url": PUBLIC}, format="json").status_code == 403
    assert WebhookEndpoint.objects.count() == 0


def test_other_tenant_gets_404_and_list_excludes_other_tenant(merchant, api_as):
    tenant, key = merchant
    mine = services.endpoint_create(tenant_id=tenant.pk, url=PUBLIC, events=[])
    _, stranger_key = tenant_with_key(slug="stranger")
    stranger = api_as(stranger_key)

    assert stranger.get(URL).json()["results"] == []
    assert stranger.get(f"{URL}{mine.id}/").status_code == 404
    assert stranger.get(f"{URL}{mine.id}/deliveries/").status_code == 404
    assert stranger.delete(f"{URL}{mine.id}/").status_code == 404
    assert WebhookEndpoint.objects.filter(pk=mine.pk).exists()


def test_delete_removes_the_endpoint(merchant, api_as):
    tenant, key = merchant
    endpoint = services.endpoint_create(tenant_id=tenant.pk, url=PUBLIC, events=[])

    response = api_as(key).delete(f"{URL}{endpoint.id}/")

    assert response.status_code == 204
    assert not WebhookEndpoint.objects.exists()
    assert api_as(key).get(f"{URL}{endpoint.id}/").status_code == 404


def test_deliveries_list_the_attempts_of_that_endpoint(merchant, api_as, receiver, loopback_allowed):
    tenant, key = merchant
    endpoint = services.endpoint_create(tenant_id=tenant.pk, url=receiver.url, events=["order.created"])
    other = services.endpoint_create(tenant_id=tenant.pk, url=PUBLIC, events=["order.shipped"])
    event = services.event_publish(tenant_id=tenant.pk, type="order.created", data={"id": "o-1"})
    services.event_publish(tenant_id=tenant.pk, type="order.shipped", data={"id": "o-1"})
    receiver.status = 500
    services.delivery_attempt(delivery_id=WebhookDelivery.objects.get(endpoint=endpoint).pk)

    response = api_as(key).get(f"{URL}{endpoint.id}/deliveries/")

    assert response.status_code == 200
    rows = response.json()["results"]
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert rows == [
        {
            "id": str(delivery.id),
            "endpoint": str(endpoint.id),
            "event": str(event.id),
            "event_type": "order.created",
            "message_id": event.message_id,
            "status": "pending",
            "attempts": 1,
            "last_status_code": 500,
            "last_error": "HTTP 500",
            "next_attempt_at": rows[0]["next_attempt_at"],
            "delivered_at": None,
            "created_at": rows[0]["created_at"],
        }
    ]
    assert len(api_as(key).get(f"{URL}{other.id}/deliveries/").json()["results"]) == 1
