"""The manager page "Materials": the packing materials of the manager's warehouses (on hand against
the reorder point, low ones highlighted, a bar chart), the open low-stock alerts, a form to record
a receipt, an adjustment or a count, and the recent movements of the ledger.

Managers only (associates read the balances through the API): the form writes stock.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods

from fulfillment.errors import refusal_shown, sentence
from fulfillment.tenancy.portal import staff_actor
from inventory.selectors import warehouses_for
from packing import selectors, services
from packing.models import MANUAL_MATERIAL_REASONS, Material

RECENT_MOVEMENTS = 50

# The chart's geometry (SVG user units; the SVG scales to its card's width).
CHART_LABEL_W = 150
CHART_BAR_W = 420
CHART_VALUE_W = 70
CHART_ROW_H = 26
CHART_BAR_H = 16


class MovementForm(forms.Form):
    warehouse = forms.ChoiceField()
    material = forms.ChoiceField()
    reason = forms.ChoiceField(
        choices=MANUAL_MATERIAL_REASONS,
        help_text="Received: units delivered. Adjusted: + found, - damaged or lost. Counted: what is on the shelf.",
    )
    quantity = forms.IntegerField(
        min_value=-services.materials.MAX_QUANTITY,
        max_value=services.materials.MAX_QUANTITY,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    reference = forms.CharField(max_length=100, required=False, help_text="e.g. the delivery note")
    note = forms.CharField(max_length=200, required=False)

    def __init__(self, data=None, *, warehouses, materials, **kwargs):
        super().__init__(data, **kwargs)
        self.warehouses = {w.code: w for w in warehouses}
        self.fields["warehouse"].choices = [(code, code) for code in self.warehouses]
        self.fields["material"].choices = [(m.code, f"{m.code} · {m.name}") for m in materials]


@dataclass(frozen=True)
class Bar:
    code: str
    on_hand: int
    reorder_point: int
    low: bool
    y: int
    width: float
    marker_x: float

    @property
    def text_y(self) -> int:
        return self.y + CHART_BAR_H - 3


def chart(rows: list[tuple[Material, selectors.MaterialStock]]) -> dict:
    """Horizontal bars of on hand, each with a mark at its reorder point, on one scale per warehouse."""
    top = max([1, *(max(stock.on_hand, stock.reorder_point) for _, stock in rows)])
    bars = []
    for i, (material, stock) in enumerate(rows):
        bars.append(
            Bar(
                code=material.code,
                on_hand=stock.on_hand,
                reorder_point=stock.reorder_point,
                low=stock.low,
                y=i * CHART_ROW_H + 4,
                width=round(max(stock.on_hand, 0) / top * CHART_BAR_W, 1),
                marker_x=round(CHART_LABEL_W + stock.reorder_point / top * CHART_BAR_W, 1),
            )
        )
    return {
        "bars": bars,
        "width": CHART_LABEL_W + CHART_BAR_W + CHART_VALUE_W,
        "height": max(len(bars), 1) * CHART_ROW_H + 8,
        "label_w": CHART_LABEL_W,
        "bar_w": CHART_BAR_W,
        "value_x": CHART_LABEL_W + CHART_BAR_W + 6,
        "bar_h": CHART_BAR_H,
        "scale_top": top,
    }


def _context(actor, form: MovementForm | None = None) -> dict:
    warehouses = list(warehouses_for(actor))
    materials = list(Material.objects.select_related("box").order_by("code"))
    stock = selectors.material_stock(actor=actor, materials=materials)
    sections = []
    by_warehouse = {(m.pk, s.warehouse_id): s for m in materials for s in stock[m.pk]}
    for warehouse in warehouses:
        rows = [(m, by_warehouse[(m.pk, warehouse.pk)]) for m in materials]
        sections.append(
            {"warehouse": warehouse, "rows": rows, "low": sum(s.low for _, s in rows), "chart": chart(rows)}
        )
    return {
        "sections": sections,
        "materials": materials,
        "material_alerts": list(selectors.material_open_alerts(actor=actor)[:100]),
        "movements": list(selectors.material_movements(actor=actor)[:RECENT_MOVEMENTS]),
        "form": form or MovementForm(warehouses=warehouses, materials=materials),
    }


@login_required
@require_http_methods(["GET", "POST"])
def materials_page(request):
    actor = staff_actor(request, manager=True)
    if request.method == "GET":
        return render(request, "packing/materials.html", _context(actor))
    form = MovementForm(
        request.POST,
        warehouses=warehouses_for(actor),
        materials=Material.objects.order_by("code"),
    )
    if form.is_valid():
        data = form.cleaned_data
        with refusal_shown(form=form):
            movement = services.material_movement_record(
                warehouse_id=form.warehouses[data["warehouse"]].pk,
                material_code=data["material"],
                reason=data["reason"],
                quantity=data["quantity"],
                reference=data["reference"],
                note=data["note"],
                actor=actor.label,
                user_id=actor.user_id,
            )
            delta = f"{movement.quantity_delta:+d}"
            messages.success(
                request, sentence(f"{data['material']} in {data['warehouse']}: {movement.reason} ({delta})")
            )
            return redirect("packing:materials")
    return render(request, "packing/materials.html", _context(actor, form), status=422)


urlpatterns = [
    path("packing/materials/", materials_page, name="materials"),
]
