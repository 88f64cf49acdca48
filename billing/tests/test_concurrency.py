"""Real threads: invoicing and fee writing at the same moment never bill a fee twice or lose one."""

from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import Invoice, InvoiceFee
from billing.services import invoice_issue
from fulfillment.errors import Refusal
from fulfillment.fees import services as fees
from fulfillment.fees.models import Fee
from fulfillment.tenancy.tests.factories import TenantFactory
from tests.threads import race

pytestmark = [pytest.mark.django_db(transaction=True)]


def _receipt(tenant, key: str) -> None:
    fees.fees_for_receipt(tenant_id=tenant.pk, shipment_id=key, reference=key, units=2, warehouse_code="MAIN")


def test_two_managers_invoicing_the_same_period_make_one_invoice():
    tenant = TenantFactory()
    for n in range(30):
        _receipt(tenant, f"a{n}")
    today = timezone.localdate()
    outcomes = race(
        [lambda: invoice_issue(tenant_id=tenant.pk, period_start=today.replace(day=1), period_end=today)] * 4,
        timeout=30,
        barrier_timeout=10,
    )
    issued = [o for o in outcomes if isinstance(o, Invoice)]
    refused = [o for o in outcomes if isinstance(o, Refusal)]
    assert (len(issued), len(refused)) == (1, 3), outcomes
    assert {r.code for r in refused} == {"already_invoiced"}
    assert InvoiceFee.objects.count() == 30 and issued[0].subtotal == Decimal("15.00")


def test_fees_written_while_invoicing_are_on_this_invoice_or_the_next_never_both():
    tenant = TenantFactory()
    for n in range(20):
        _receipt(tenant, f"a{n}")
    today = timezone.localdate()

    def write_many():
        for n in range(40):
            _receipt(tenant, f"b{n}")

    race(
        [write_many, lambda: invoice_issue(tenant_id=tenant.pk, period_start=today.replace(day=1), period_end=today)],
        timeout=60,
        barrier_timeout=10,
    )
    first = Invoice.objects.get(tenant=tenant)
    frozen = list(InvoiceFee.objects.values_list("fee_id", flat=True))
    assert len(frozen) == len(set(frozen)) == first.fee_count >= 20
    left = Fee.objects.filter(tenant=tenant).exclude(pk__in=frozen).count()
    assert first.fee_count + left == 60
    assert first.subtotal == sum(f.amount for f in Fee.objects.filter(pk__in=frozen))
    # What the invoice did not take is still unbilled, so the next invoice takes it.
    assert not InvoiceFee.objects.filter(fee__in=Fee.objects.filter(tenant=tenant).exclude(pk__in=frozen)).exists()
