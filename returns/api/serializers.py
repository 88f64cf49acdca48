from django.core.exceptions import ObjectDoesNotExist
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from returns.models import (
    Disposition,
    Grade,
    LabelStatus,
    RefundMethod,
    Resolution,
    Return,
    ReturnLabel,
    ReturnLine,
    ReturnReceipt,
    ReturnRefund,
)


class ReturnLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReturnLine
        fields = ["sku", "quantity", "reason", "received_quantity", "condition", "disposition"]
        read_only_fields = fields


class ReturnReceiptSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="line.sku")
    condition = serializers.ChoiceField(source="grade", choices=Grade.choices, help_text="The grade found")
    location = serializers.CharField(source="location.code", allow_null=True, default=None)

    class Meta:
        model = ReturnReceipt
        fields = ["sku", "quantity", "condition", "disposition", "location", "note", "received_at", "actor"]
        read_only_fields = fields


class ReturnRefundSerializer(serializers.ModelSerializer):
    amount_due = serializers.DecimalField(
        max_digits=12, decimal_places=2, read_only=True, help_text="What the policy says is due for the units received"
    )
    amount = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        read_only=True,
        allow_null=True,
        help_text="What the merchant confirmed (at most amount_due); null while pending",
    )
    breakdown = serializers.JSONField(
        read_only=True,
        help_text="How amount_due was reached: per receipt (sku, grade, quantity, unit_price, amount, "
        "restocking_fee, net), subtotal, restocking_fee_percent, restocking_fees, return_shipping_fee, "
        "return_shipping_note, amount_due; amounts as decimal strings",
    )

    class Meta:
        model = ReturnRefund
        fields = ["amount_due", "amount", "currency", "status", "method", "breakdown", "note", "refunded_at"]
        read_only_fields = fields


class ExchangeOrderSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    number = serializers.CharField(read_only=True)
    status = serializers.CharField(
        read_only=True, help_text="The new order's status (on_hold until the return arrives)"
    )


class ExchangeLineSerializer(serializers.Serializer):
    sku = serializers.CharField(read_only=True)
    quantity = serializers.IntegerField(read_only=True)


def _related(obj, name: str):
    """A reverse one-to-one (the refund, the label), or None when there is none."""
    try:
        return getattr(obj, name)
    except ObjectDoesNotExist:
        return None


def return_label(rma: Return) -> ReturnLabel | None:
    """The return's label the shopper can print: none, or a voided one, is no label."""
    label = _related(rma, "label")
    return label if label is not None and label.status != LabelStatus.VOIDED else None


class ReturnSerializer(serializers.ModelSerializer):
    order = serializers.UUIDField(source="order_id", read_only=True, help_text="The order's id")
    order_number = serializers.CharField(source="order.number", read_only=True)
    warehouse = serializers.CharField(source="warehouse.code", read_only=True, help_text="The warehouse code")
    lines = ReturnLineSerializer(many=True, read_only=True)
    receipts = ReturnReceiptSerializer(
        many=True, read_only=True, help_text="Each parcel's units as received, oldest first"
    )
    exchange_lines = ExchangeLineSerializer(many=True, read_only=True, help_text="An exchange: what the shopper wants")
    label_url = serializers.SerializerMethodField(help_text="The prepaid return label (PDF); null when none")
    tracking_number = serializers.SerializerMethodField(help_text="The return label's tracking number; null when none")
    refund = serializers.SerializerMethodField(
        help_text="A refund or store-credit return: the policy's figure from its first receipt on, and what was "
        "confirmed; null before any unit is in and for an exchange"
    )
    exchange_order = serializers.SerializerMethodField(help_text="An exchange: the new outbound order; else null")

    class Meta:
        model = Return
        fields = [
            "id",
            "number",
            "order",
            "order_number",
            "warehouse",
            "status",
            "resolution",
            "source",
            "lines",
            "receipts",
            "exchange_lines",
            "label_url",
            "tracking_number",
            "refund",
            "exchange_order",
            "created_at",
            "updated_at",
            "received_at",
            "inspected_at",
            "closed_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_label_url(self, obj: Return) -> str | None:
        if return_label(obj) is None:
            return None
        path = reverse("return-label-pdf", kwargs={"pk": obj.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_tracking_number(self, obj: Return) -> str | None:
        label = return_label(obj)
        return label.tracking_number if label is not None and label.tracking_number else None

    @extend_schema_field(ReturnRefundSerializer(allow_null=True))
    def get_refund(self, obj: Return) -> dict | None:
        refund = _related(obj, "refund")
        return ReturnRefundSerializer(refund).data if refund is not None else None

    @extend_schema_field(ExchangeOrderSerializer(allow_null=True))
    def get_exchange_order(self, obj: Return) -> dict | None:
        order = obj.exchange_order
        return ExchangeOrderSerializer(order).data if order is not None else None


class ReturnLineInputSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)
    reason = serializers.CharField(max_length=200)


class ExchangeLineInputSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64, help_text="One of your products")
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)


class ReturnCreateSerializer(serializers.Serializer):
    order = serializers.UUIDField(help_text="The id of one of your shipped or delivered orders")
    lines = ReturnLineInputSerializer(many=True, allow_empty=False, max_length=500)
    resolution = serializers.ChoiceField(
        choices=Resolution.choices, default=Resolution.REFUND, help_text="One your return policy offers"
    )
    exchange_lines = ExchangeLineInputSerializer(
        many=True,
        required=False,
        default=list,
        max_length=500,
        help_text="exchange only (and then required): what the shopper wants instead; it becomes a new order",
    )
    label = serializers.BooleanField(
        default=True,
        help_text="Buy the prepaid return label on your policy's label account and service (when it names "
        "them). A carrier that refuses leaves the return `requested` without one: ask again with "
        "POST /returns/{id}/label/",
    )
    notify_shopper = serializers.BooleanField(
        default=False,
        help_text="E-mail the shopper the RMA number, what to do and the label (when you send shopper e-mails)",
    )


class ReturnRefundInputSerializer(serializers.Serializer):
    amount = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        required=False,
        allow_null=True,
        default=None,
        help_text="What you paid back: at most the amount due (refund.amount_due); left out, the amount due",
    )
    method = serializers.ChoiceField(
        choices=RefundMethod.choices,
        required=False,
        allow_null=True,
        default=None,
        help_text="store_credit only for a store-credit return; left out, the return's own",
    )
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class ReturnCloseInputSerializer(serializers.Serializer):
    note = serializers.CharField(
        max_length=300, required=False, allow_blank=True, default="", help_text="Why (on the order's timeline)"
    )


class ReceiptLineInputSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)
    condition = serializers.ChoiceField(choices=Grade.choices, help_text="The grade the inspection found")
    note = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="", help_text="The inspector's words"
    )
    disposition = serializers.ChoiceField(choices=Disposition.choices)
    location = serializers.CharField(
        max_length=30,
        required=False,
        allow_blank=True,
        default="",
        help_text="restock only: the sellable location (barcode) to put the units; default: a suggested one",
    )


class ReturnReceiveSerializer(serializers.Serializer):
    lines = ReceiptLineInputSerializer(many=True, allow_empty=False, max_length=500)
