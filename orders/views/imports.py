"""Merchant portal: CSV order imports (upload form, recent imports, one import with a live progress bar).

Pages run as the signed-in merchant's actor (``merchant_required``); another tenant's import is a 404.
The upload goes through the same service as ``POST /api/v1/order-imports/`` (orders.imports).
"""

from __future__ import annotations

from django import forms
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods

from fulfillment.api.csv import csv_response
from fulfillment.errors import refusal_shown
from fulfillment.tenancy.models import Tenant
from fulfillment.tenancy.portal import merchant_required
from orders import imports
from orders.models import ImportStatus, OrderImport

RECENT = 20
SHOWN_ERRORS = 100
_PROGRESS_FIELDS = ["status", "total", "processed", "created", "duplicates", "failed", "error_count"]


class UploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
        error_messages={"required": "Choose a CSV file to upload.", "empty": "The file is empty."},
    )


def _job(actor, import_id, *fields: str) -> OrderImport:
    qs = OrderImport.objects.visible_to(actor).filter(pk=import_id)
    job = (qs.only(*fields) if fields else qs.defer("content")).first()
    if job is None:
        raise Http404("No such import.")
    return job


@require_http_methods(["GET", "POST"])
@merchant_required
def import_list(request, *, actor):
    form = UploadForm()
    existing = None
    status = 200
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            with refusal_shown(form=form) as refused:
                job = imports.import_create(
                    tenant=Tenant.objects.get(pk=actor.tenant_id),
                    file_name=upload.name,
                    data=imports.read_upload(upload),
                    actor=actor.label,
                )
                return redirect("orders:portal-import", import_id=job.pk)
            existing = refused.refusal.existing_id  # the same file's import, when it is still running
        status = 422
    recent = (
        OrderImport.objects.visible_to(actor)
        .only("id", "file_name", "status", "total", "processed", "created", "duplicates", "failed", "created_at")
        .order_by("-created_at")[:RECENT]
    )
    context = {
        "form": form,
        "recent": recent,
        "existing": existing,
        "columns": imports.COLUMNS,
        "optional": imports.OPTIONAL_COLUMNS,
        "max_mb": imports.MAX_BYTES // (1024 * 1024),
        "max_rows": imports.MAX_ROWS,
    }
    return render(request, "orders/portal/import_list.html", context, status=status)


@require_GET
@merchant_required
def import_detail(request, import_id, *, actor):
    job = _job(actor, import_id)
    finished = job.status in {ImportStatus.DONE, ImportStatus.FAILED}
    context = {
        "job": job,
        "finished": finished,
        "errors": job.errors[:SHOWN_ERRORS],
        "more_errors": job.error_count - min(len(job.errors), SHOWN_ERRORS),
        "progress_url": reverse("orders:portal-import-progress", args=[job.pk]),
        "percent": round(100 * job.processed / job.total) if job.total else 100,
    }
    return render(request, "orders/portal/import_detail.html", context)


@require_GET
@merchant_required
def import_progress(request, import_id, *, actor):
    """The counts the progress bar polls every second (small: no errors, no content)."""
    job = _job(actor, import_id, *_PROGRESS_FIELDS)
    return JsonResponse({name: getattr(job, name) for name in _PROGRESS_FIELDS})


@require_GET
@merchant_required
def import_errors_csv(request, import_id, *, actor):
    job = _job(actor, import_id, "file_name", "errors", "content")
    header, rows = imports.error_rows(job)
    # Cells come from the merchant's file: csv_response neutralises = + - @.
    return csv_response(filename=imports.error_file_name(job), header=header, rows=rows)


urlpatterns = [
    path("portal/imports/", import_list, name="portal-imports"),
    path("portal/imports/<uuid:import_id>/", import_detail, name="portal-import"),
    path("portal/imports/<uuid:import_id>/progress.json", import_progress, name="portal-import-progress"),
    path("portal/imports/<uuid:import_id>/errors.csv", import_errors_csv, name="portal-import-errors"),
]
