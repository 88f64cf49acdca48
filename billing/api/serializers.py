from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from billing.models import Invoice, InvoiceLine
from fulfillment.fees.models import DefaultRateCard, Fee, FeeKind

PRICE_HELP = {
    "storage_per_m3_day": "Per cubic metre held, per day (the nightly snapshot of the units on hand)",
    "receiving_per_unit": "Per unit received at the dock (damaged units too)",
    "pick_per_order": "Per order picked",
    "pick_per_extra_unit": "Per picked unit after an order's first",
    "pack_per_package": "Per package packed",
    "materials_markup_percent": "Added to what each package's box costs the operator, in percent",
    "shipping_markup_percent": "Added to each label's carrier charge (outbound and return labels), in percent",
    "return_per_rma": "Per return received (once per RMA)",
    "return_per_unit": "Per returned unit received",
    "monthly_minimum": "The least a month is invoiced; a shortfall is a top-up line (prorated for part months)",
    "currency": "ISO 4217; every fee and invoice of the merchant is in it",
}


def _price_fields(*, required: bool) -> dict:
    fields = {}
    for name in DefaultRateCard.PRICE_FIELDS:
        if name == "currency":
            fields[name] = serializers.CharField(
                max_length=3, min_length=3, required=required, help_text=PRICE_HELP[name]
            )
        else:
            fields[name] = serializers.DecimalField(
                max_digits=14,
                decimal_places=4 if not name.endswith(("percent", "minimum")) else 2,
                min_value=Decimal(0),
                required=required,
                help_text=PRICE_HELP[name],
            )
    return fields


RateCardPricesSerializer = type("RateCardPricesSerializer", (serializers.Serializer,), _price_fields(required=True))


class RateCardVersionSerializer(RateCardPricesSerializer):
    effective_from = serializers.DateField(help_text="Fees that occur from this day on are priced at this card")


class RateCardSerializer(RateCardVersionSerializer):
    tenant = serializers.CharField(allow_null=True, help_text="The merchant's slug; null for the default card")
    source = serializers.ChoiceField(
        choices=["tenant", "default"], help_text="tenant: the merchant's own card; default: the operator's default"
    )
    scheduled = RateCardVersionSerializer(many=True, help_text="Cards that take effect later, soonest first")


RateCardInputSerializer = type(
    "RateCardInputSerializer",
    (serializers.Serializer,),
    {
        **_price_fields(required=False),
        "effective_from": serializers.DateField(
            required=False, help_text="Today (the default) or a later day; fields left out keep that day's values"
        ),
    },
)


class FeeSourceSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="receipt, order, shipment, return, storage_day, fee (a correction), manual")
    id = serializers.CharField(help_text="The id of what earned it (the inbound shipment, order, shipment, return...)")
    reference = serializers.CharField(help_text="e.g. the order number, the ASN reference, the storage day")


class FeeSerializer(serializers.ModelSerializer):
    tenant = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    source = serializers.SerializerMethodField()
    warehouse = serializers.CharField(source="warehouse_code")
    corrects = serializers.PrimaryKeyRelatedField(read_only=True, help_text="The fee this row corrects")
    invoiced = serializers.BooleanField(help_text="The fee is frozen to an invoice")

    class Meta:
        model = Fee
        fields = [
            "id",
            "tenant",
            "kind",
            "quantity",
            "unit_price",
            "amount",
            "currency",
            "cost",
            "source",
            "warehouse",
            "occurred_at",
            "rate_card",
            "corrects",
            "reason",
            "invoiced",
        ]
        read_only_fields = fields

    @extend_schema_field(FeeSourceSerializer)
    def get_source(self, fee: Fee) -> dict:
        return {"type": fee.source_type, "id": fee.source_id, "reference": fee.source_ref}


class FeeCorrectionSerializer(serializers.Serializer):
    tenant = serializers.SlugField(help_text="The merchant's slug")
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, help_text="Signed: negative credits the merchant, positive charges"
    )
    reason = serializers.CharField(max_length=200, help_text="Why (shown to the merchant)")
    corrects = serializers.IntegerField(
        required=False, help_text="The fee corrected (its kind and source are kept); without: an adjustment"
    )


class InvoiceLineSerializer(serializers.ModelSerializer):
    description = serializers.SerializerMethodField()
    fees = serializers.IntegerField(source="fee_count", help_text="Fee rows behind the line")

    class Meta:
        model = InvoiceLine
        fields = ["kind", "description", "quantity", "amount", "fees"]

    def get_description(self, line: InvoiceLine) -> str:
        return dict(FeeKind.choices).get(line.kind, line.kind)


class InvoiceSerializer(serializers.ModelSerializer):
    tenant = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    lines = InvoiceLineSerializer(many=True)
    fees = serializers.IntegerField(source="fee_count")
    pdf_url = serializers.SerializerMethodField()
    csv_url = serializers.SerializerMethodField()

    class Meta:
        model = Invoice
        fields = [
            "id",
            "number",
            "tenant",
            "period_start",
            "period_end",
            "currency",
            "lines",
            "subtotal",
            "monthly_minimum",
            "minimum_top_up",
            "total",
            "fees",
            "issuer",
            "bill_to",
            "issued_at",
            "pdf_url",
            "csv_url",
        ]
        read_only_fields = fields

    def _url(self, invoice: Invoice, suffix: str) -> str:
        request = self.context.get("request")
        path = f"/api/v1/invoices/{invoice.pk}/invoice.{suffix}"
        return request.build_absolute_uri(path) if request else path

    def get_pdf_url(self, invoice: Invoice) -> str:
        return self._url(invoice, "pdf")

    def get_csv_url(self, invoice: Invoice) -> str:
        return self._url(invoice, "csv")


class InvoiceCreateSerializer(serializers.Serializer):
    tenant = serializers.SlugField(help_text="The merchant's slug")
    period_start = serializers.DateField(help_text="The first day invoiced")
    period_end = serializers.DateField(help_text="The last day invoiced (inclusive), today at the latest")
