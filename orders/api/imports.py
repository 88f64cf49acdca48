"""CSV order imports over the API: upload (202 with a job), the job with its progress, the error CSV."""

from __future__ import annotations

import json

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, mixins, renderers, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from fulfillment.api.base import IsActor, IsMerchant, ScopedViewSet
from fulfillment.api.csv import csv_response
from fulfillment.tenancy.models import Tenant
from orders import imports
from orders.models import OrderImport

CSV_FORMAT = f"""\
**CSV format.** A header row, then one row per order line; rows with the same `external_id` form
one order. Columns (any order; names without regard to case): `external_id`, `shipping_method`
(standard | express | same_day), `payment_status` (paid | authorized | pending | failed), `currency`
(ISO 4217), `ship_to_name`, `ship_to_company`?, `ship_to_line1`, `ship_to_line2`?, `ship_to_city`,
`ship_to_region`, `ship_to_postal_code`, `ship_to_country` (ISO 3166-1 alpha-2), `ship_to_phone`?,
`ship_to_email`?, `sku`, `quantity`, `unit_price`?, `warehouse`? (? = the column may be left out).
The order columns (all but `sku`, `quantity`, `unit_price`) must agree across an order's rows; later
rows may leave them empty. UTF-8 with or without BOM, comma separated, RFC 4180 quoting; rows
whose cells are all empty are skipped.

**Refused at once** (problem+json, nothing stored): no `file` part (400); an empty file, NUL
bytes, not UTF-8 (the byte and line are named), missing or unknown columns (named) (422); over
{imports.MAX_BYTES // (1024 * 1024)} MB or over {imports.MAX_ROWS:,} rows (413); the same file while its
first import is still queued or running (409 with `existing_import_id`).

**Row errors** `{{row, field, message}}`: `row` is the spreadsheet row number (header = 1),
`field` the column. Every row of a failing order is listed; the valid orders are created anyway.
An order whose `external_id` exists already (a re-upload) counts in `duplicates`, not as an error,
so uploading the same file again creates nothing. At most {imports.MAX_STORED_ERRORS:,} errors are
kept (`error_count` counts them all).
"""


class OrderImportErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="spreadsheet row number; the header is row 1")
    field = serializers.CharField(allow_null=True, help_text="the CSV column, or null for the whole row")
    message = serializers.CharField()


class OrderImportListSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderImport
        fields = [
            "id",
            "status",
            "file_name",
            "total",
            "processed",
            "created",
            "duplicates",
            "failed",
            "error_count",
            "created_at",
            "started_at",
            "finished_at",
        ]
        extra_kwargs = {
            "total": {"help_text": "orders in the file (rows grouped by external_id)"},
            "processed": {"help_text": "orders handled so far: created + duplicates + failed"},
            "error_count": {"help_text": "row errors, including those past the first 1,000 kept in errors"},
        }


class OrderImportSerializer(OrderImportListSerializer):
    errors = OrderImportErrorSerializer(many=True, help_text="the first 1,000 row errors, in row order")

    class Meta(OrderImportListSerializer.Meta):
        fields = [*OrderImportListSerializer.Meta.fields[:9], "errors", *OrderImportListSerializer.Meta.fields[9:]]


class _CsvRenderer(renderers.BaseRenderer):
    """Lets ``Accept: text/csv`` through content negotiation; problem documents still render as JSON."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return json.dumps(data).encode() if data is not None else b""


class OrderImportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """CSV order imports of the merchant (API key or portal session). Staff tokens are refused (403):
    an import belongs to one merchant, and staff see the resulting orders through the orders API."""

    model = OrderImport
    permission_classes = [IsActor, IsMerchant]
    parser_classes = [MultiPartParser]
    serializer_class = OrderImportSerializer

    def base_queryset(self, qs):
        return qs.defer("content")

    def get_serializer_class(self):
        return OrderImportListSerializer if self.action == "list" else OrderImportSerializer

    def get_renderers(self):
        if self.action == "errors_csv":
            return [renderers.JSONRenderer(), _CsvRenderer()]
        return super().get_renderers()

    @extend_schema(
        summary="Upload a CSV file of orders",
        description="Answers 202 with the import job; the import runs in the background.\n" + CSV_FORMAT,
        request={
            "multipart/form-data": inline_serializer(
                name="OrderImportUpload", fields={"file": serializers.FileField(help_text="the CSV file")}
            )
        },
        responses={
            202: OrderImportSerializer,
            400: OpenApiResponse(description="no file part"),
            409: OpenApiResponse(description="the same file is being imported: existing_import_id"),
            413: OpenApiResponse(description="over 10 MB or over 50,000 rows"),
            422: OpenApiResponse(description="empty, NUL bytes, not UTF-8, missing or unknown columns"),
        },
    )
    def create(self, request, *args, **kwargs):
        upload = request.FILES.get("file")
        if upload is None:
            raise exceptions.ParseError("Send the CSV file as the multipart form field 'file'.")
        tenant = Tenant.objects.get(pk=self.actor.tenant_id)
        job = imports.import_create(
            tenant=tenant, file_name=upload.name, data=imports.read_upload(upload), actor=self.actor.label
        )
        job = self.get_queryset().get(pk=job.pk)
        location = f"{request.path.rstrip('/')}/{job.pk}/"
        return Response(
            OrderImportSerializer(job).data, status=status.HTTP_202_ACCEPTED, headers={"Location": location}
        )

    @extend_schema(summary="The imports of the merchant, newest first", description=CSV_FORMAT)
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="One import: status, progress, counts and row errors")
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="The rows that failed, as CSV",
        description="One line per failed row: `error_row`, `error_field`, `error_message`, then the row's "
        "cells as uploaded. Cells that start with = + - @ are prefixed with ' (formula neutralisation); "
        "the upload removes that prefix and ignores the error_* columns, so a corrected file can be sent back.",
        operation_id="v1_order_imports_errors_csv",
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    def errors_csv(self, request, pk=None):
        job = self.get_object()
        header, rows = imports.error_rows(job)
        # Cells come from the merchant's file: csv_response neutralises = + - @.
        return csv_response(filename=imports.error_file_name(job), header=header, rows=rows)
