import pytest
from django.core.exceptions import ImproperlyConfigured

from orders.models import HoldReason, Order
from orders.payments import PaymentVerifier, StatusPaymentVerifier, payment_verifier
from orders.services import LineInput, OrderInput


class RiskVerifier:
    """A verifier an operator could plug in: holds every order over 1,000 in its currency."""

    def holds(self, *, order_data) -> list[str]:
        total = sum((line.unit_price or 0) * line.quantity for line in order_data.lines)
        return [HoldReason.PAYMENT_PENDING] if total > 1000 else []


class NeedsArguments:
    def __init__(self, api_key):
        self.api_key = api_key


def _order(payment_status="paid", unit_price=10):
    return OrderInput(
        external_id="X1",
        shipping_method="standard",
        payment_status=payment_status,
        currency="CAD",
        ship_to={},
        lines=[LineInput(sku="TEE", quantity=2, unit_price=unit_price)],
    )


@pytest.mark.parametrize(
    ("status", "holds"),
    [
        ("paid", []),
        ("authorized", []),
        ("pending", [HoldReason.PAYMENT_PENDING]),
        ("failed", [HoldReason.PAYMENT_FAILED]),
    ],
)
def test_the_default_verifier_holds_pending_and_failed_payments(status, holds):
    verifier = payment_verifier()

    assert isinstance(verifier, StatusPaymentVerifier)
    assert isinstance(verifier, PaymentVerifier)
    assert verifier.holds(order_data=_order(status)) == holds
    # The same from an Order on update, or from a plain mapping.
    assert verifier.holds(order_data=Order(payment_status=status)) == holds
    assert verifier.holds(order_data={"payment_status": status}) == holds


def test_an_unknown_payment_status_is_refused():
    with pytest.raises(ValueError, match="unknown payment_status 'refunded'"):
        StatusPaymentVerifier().holds(order_data={"payment_status": "refunded"})


def test_a_configured_verifier_is_used_and_kept(settings):
    settings.ORDER_PAYMENT_VERIFIER = "orders.tests.test_payments.RiskVerifier"

    verifier = payment_verifier()

    assert isinstance(verifier, RiskVerifier)
    assert payment_verifier() is verifier
    assert verifier.holds(order_data=_order("paid", unit_price=600)) == [HoldReason.PAYMENT_PENDING]
    assert verifier.holds(order_data=_order("pending", unit_price=1)) == []


def test_the_default_comes_back_when_the_setting_is_removed(settings):
    settings.ORDER_PAYMENT_VERIFIER = ""

    assert isinstance(payment_verifier(), StatusPaymentVerifier)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("orders.tests.test_payments.Missing", "cannot be imported"),
        ("no_such_module.Verifier", "cannot be imported"),
        ("notadottedpath", "cannot be imported"),
        ("orders.tests.test_payments.NeedsArguments", "takes no arguments"),
        ("orders.models.Order", "has no holds"),
    ],
)
def test_a_bad_verifier_path_is_improperly_configured_naming_the_setting(settings, path, message):
    settings.ORDER_PAYMENT_VERIFIER = path

    with pytest.raises(ImproperlyConfigured, match=f"ORDER_PAYMENT_VERIFIER '{path}' .*{message}"):
        payment_verifier()
