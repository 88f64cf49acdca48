"""Demo data: a warehouse, two merchants, products, stock, staff and orders in every state."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.utils import timezone

from billing import services as billing
from fulfillment.celery import app as celery_app
from fulfillment.fees import services as fees
from fulfillment.tenancy import services as tenancy
from fulfillment.tenancy.models import Tenant
from fulfillment.tenancy.rls import in_operator_scope
from inventory import services as inventory
from inventory.models import Location, Product, Warehouse
from inventory.services import counts, replenishment
from orders import services as orders
from orders.models import Order, Status
from packing import services as packing
from packing.models import Box
from picking import services as picking
from picking.models import TaskStatus
from returns import services as returns
from shipping import services as shipping

PASSWORD = "demo-pass-123"
# A delivered acme order a shopper can return in the returns portal (with a prepaid label).
RETURNS_DEMO_ORDER = "DEMO-ACME-2"

CATALOG = {
    "acme": (
        "Acme Apparel",
        [
            ("TEE-RED-M", "Red tee, M", "0012345678905", 180, (300, 220, 20), 40, "01-02-1"),
            ("TEE-BLU-L", "Blue tee, L", "0012345678912", 190, (300, 220, 20), 30, "01-05-1"),
            ("HOODIE-GRY-M", "Grey hoodie, M", "0012345678929", 650, (350, 300, 60), 12, "02-03-1"),
            ("SOCKS-3PK", "Socks, 3 pack", "0012345678936", 120, (200, 100, 40), 60, "03-07-2"),
            # An insert (INSERT_RULES), kept where the packers are.
            ("FLYER-01", "Welcome flyer", "0012345678943", 5, (210, 148, 1), 200, "PACKING"),
        ],
    ),
    "globex": (
        "Globex Gadgets",
        [
            ("CABLE-USB-C", "USB-C cable 1 m", "4006381333931", 60, (150, 100, 20), 50, "02-08-1"),
            ("CHARGER-65W", "65 W charger", "4006381333948", 210, (90, 90, 40), 20, "04-02-1"),
            ("EARBUDS-PRO", "Earbuds Pro", "4006381333955", 80, (80, 60, 40), 0, ""),
        ],
    ),
}

# The merchants' branding on packing slips: accent colour, slip message; the logo is drawn below.
BRANDING = {
    "acme": ("#C2410C", "Thanks for shopping with Acme Apparel. Wear it well!"),
    "globex": ("#0F766E", "Thanks for choosing Globex Gadgets. Questions? support@globex.example"),
}

# Shelf prices, printed on packing slips (a gift order's slip leaves them off).
PRICES = {
    "TEE-RED-M": Decimal("19.99"),
    "TEE-BLU-L": Decimal("21.99"),
    "HOODIE-GRY-M": Decimal("49.00"),
    "SOCKS-3PK": Decimal("12.50"),
    "CABLE-USB-C": Decimal("9.99"),
    "CHARGER-65W": Decimal("39.00"),
    "EARBUDS-PRO": Decimal("129.00"),
}

# Packing rules: apparel may go into poly mailers; electronics are fragile.
PACKING_RULES = {
    "TEE-RED-M": {"poly_mailer_ok": True},
    "TEE-BLU-L": {"poly_mailer_ok": True},
    "HOODIE-GRY-M": {"poly_mailer_ok": True},
    "SOCKS-3PK": {"poly_mailer_ok": True},
    "CHARGER-65W": {"fragile": True},
    "EARBUDS-PRO": {"fragile": True},
}


def demo_logo(name: str, color: str) -> bytes:
    """A small PNG logo drawn at seed time: the initials on a rounded badge in the brand colour, then
    the name (so that no image file is kept in the repository)."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGBA", (360, 96), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((4, 4, 92, 92), radius=18, fill=color)
    initials = "".join(word[0] for word in name.split()[:2]).upper()
    draw.text((48, 50), initials, fill="white", font=ImageFont.load_default(size=40), anchor="mm")
    draw.text((108, 50), name, fill=color, font=ImageFont.load_default(size=28), anchor="lm")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


# Per merchant: an insert every parcel gets (the flyer waits at PACKING).
INSERT_RULES = {"acme": [("FLYER-01", 1, "always")]}

# Packing materials (operator stock) for the default boxes, plus void fill and tape:
# code, name, kind, box, unit cost, reorder point, opening stock received in MAIN.
# CARTON-XL starts below its reorder point, so that the Materials page has an alert to show.
MATERIALS = [
    ("MAILER-S", "Small poly mailer", "poly", "MAILER-S", "0.12", 100, 400),
    ("BOX-S", "Small box", "box", "BOX-S", "0.45", 50, 250),
    ("MAILER-L", "Large padded mailer", "mailer", "MAILER-L", "0.38", 50, 150),
    ("BOX-M", "Medium box", "box", "BOX-M", "0.80", 40, 120),
    ("BOX-L", "Large box", "box", "BOX-L", "1.25", 20, 45),
    ("CARTON-XL", "Extra-large carton", "box", "CARTON-XL", "2.40", 10, 6),
    ("VOID-FILL", "Kraft paper void fill (sheets)", "void_fill", None, "0.03", 200, 1500),
    ("TAPE-48", "Packing tape, 48 mm roll", "tape", None, "2.10", 6, 24),
]
# Sheets of void fill a package in each box takes (mailers need none), and what a sheet weighs (g):
# part of a parcel's expected weight at the pack station.
VOID_FILL_SHEET_G = 8
VOID_FILL_PER_PACKAGE = {"BOX-S": 1, "BOX-M": 2, "BOX-L": 3, "CARTON-XL": 5}


def _address(name: str, **overrides) -> dict:
    return {
        "name": name,
        "company": "",
        "line1": "123 King St W",
        "line2": "",
        "city": "Toronto",
        "region": "ON",
        "postal_code": "M5H 1A1",
        "country": "CA",
        "phone": "+14165550100",
        "email": "shopper@example.com",
        **overrides,
    }


# The demo's 3PL prices for one merchant (the other is billed at the operator's default card).
RATE_CARDS = {
    "acme": {
        "storage_per_m3_day": Decimal("0.75"),
        "receiving_per_unit": Decimal("0.20"),
        "pick_per_order": Decimal("2.25"),
        "pick_per_extra_unit": Decimal("0.45"),
        "pack_per_package": Decimal("0.95"),
        "materials_markup_percent": Decimal("15"),
        "shipping_markup_percent": Decimal("12"),
        "return_per_rma": Decimal("3.50"),
        "return_per_unit": Decimal("0.80"),
        "monthly_minimum": Decimal("150.00"),
        "currency": "CAD",
    },
}


class Command(BaseCommand):
    help = "Create demo data (safe to re-run: existing data is kept, new keys are printed)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--base-url",
            default="http://127.0.0.1:8000",
            help="where the app answers, for the login addresses printed (default http://127.0.0.1:8000)",
        )

    @in_operator_scope
    def handle(self, *args, **options):
        eager = celery_app.conf.task_always_eager
        celery_app.conf.task_always_eager = True  # run allocation, labels and webhooks in-process
        try:
            if Tenant.objects.filter(slug="acme").exists():
                self.stdout.write("Demo data already present; issuing fresh keys.")
            else:
                self._seed()
        finally:
            celery_app.conf.task_always_eager = eager
        self._print_logins(base_url=options["base_url"].rstrip("/"))

    # -- data ------------------------------------------------------------------------------

    def _seed(self) -> None:
        # Two storage zones, so that zone and wave picking have something to split by.
        # In Toronto's time zone (the default), with a ship-from address near it for the labels.
        warehouse = Warehouse.objects.filter(code="MAIN").first() or inventory.warehouse_create(
            code="MAIN",
            name="Main warehouse",
            aisles=4,
            bays=10,
            levels=2,
            zones={"A": (1, 2), "B": (3, 4)},
            company_name="Demo Fulfillment Inc.",
            contact_name="Shipping Desk",
            address_line1="100 Logistics Dr",
            city="Mississauga",
            region="ON",
            postal_code="L5T 2Z5",
            phone="+19055550100",
        )
        tenants = {}
        for slug, (name, products) in CATALOG.items():
            tenant, _ = tenancy.tenant_create(slug=slug, name=name, default_warehouse_code="MAIN")
            color, slip_message = BRANDING[slug]
            tenancy.tenant_branding_update(
                tenant_id=tenant.pk, brand_color=color, slip_message=slip_message, logo=demo_logo(name, color)
            )
            tenants[slug] = tenant
            if slug in RATE_CARDS:  # its own prices from today; the other merchant is on the default card
                fees.rate_card_set(tenant_id=tenant.pk, prices=RATE_CARDS[slug], actor="seed_demo")
            lines = []
            for sku, title, barcode, weight, (length, width, height), quantity, location in products:
                inventory.product_create(
                    tenant_id=tenant.pk,
                    sku=sku,
                    name=title,
                    barcodes=[barcode],
                    weight_g=weight,
                    length_mm=length,
                    width_mm=width,
                    height_mm=height,
                    reorder_point=0 if location == "PACKING" else 10,  # inserts are not sold
                    **PACKING_RULES.get(sku, {}),
                )
                if quantity:
                    lines.append((sku, quantity, location))
            asn = inventory.inbound_create(
                tenant_id=tenant.pk,
                warehouse=warehouse,
                reference=f"PO-{slug.upper()}-1",
                lines=[inventory.InboundLineInput(sku=sku, quantity=q) for sku, q, _ in lines],
            )
            inventory.inbound_receive(
                shipment_id=asn.pk,
                lines=[inventory.ReceiptLineInput(sku=sku, quantity=q, location=loc) for sku, q, loc in lines],
                actor="seed_demo",
            )
        for sku, quantity, when in INSERT_RULES.get("acme", []):
            packing.insert_rule_create(tenant_id=tenants["acme"].pk, sku=sku, quantity=quantity, when=when)
        self._materials(warehouse)
        for username, role in (("manager", "manager"), ("associate", "associate")):
            user, _ = tenancy.staff_create(username=username, password=PASSWORD, role=role)
            warehouse.staff.add(user)
        self._orders(tenants, warehouse)
        self._inventory_work(tenants, warehouse)
        # Waves are released on their own at these times (warehouse time); the allocated orders
        # left by the demo wait for the next one, or for a manager's release at /picking/waves/new/.
        picking.wave_schedule_save(
            warehouse=warehouse, name="Day shift", strategy="wave", release_times=["09:00", "13:00"], max_orders=200
        )
        # Tonight's storage, taken now: the merchants' month to date shows every kind of fee at once
        # (the nightly run then finds today done and adds nothing).
        billing.storage_snapshot_take(day=timezone.localdate())

    def _materials(self, warehouse) -> None:
        """The materials of the demo boxes, their opening stock received through the ledger."""
        for box_code, sheets in VOID_FILL_PER_PACKAGE.items():
            Box.objects.filter(code=box_code).update(void_fill_per_package=sheets)
        for code, name, kind, box_code, cost, reorder_point, opening in MATERIALS:
            if box_code and not Box.objects.filter(code=box_code).exists():
                continue  # an operator removed that default box
            packing.material_create(
                code=code,
                name=name,
                kind=kind,
                box_code=box_code,
                unit_cost=cost,
                reorder_point=reorder_point,
                weight_g=VOID_FILL_SHEET_G if kind == "void_fill" else 0,
            )
            packing.material_receive(
                warehouse_id=warehouse.pk,
                material_code=code,
                quantity=opening,
                reference="opening stock",
                actor="seed_demo",
            )

    def _order(self, tenant, n: int, lines, **fields) -> Order:
        data = orders.OrderInput(
            external_id=f"DEMO-{tenant.slug.upper()}-{n}",
            shipping_method=fields.get("method", "standard"),
            payment_status=fields.get("payment", "paid"),
            currency="CAD",
            ship_to=fields.get("ship_to") or _address(f"Shopper {n}"),
            lines=[orders.LineInput(sku=sku, quantity=q, unit_price=PRICES.get(sku)) for sku, q in lines],
            warehouse="MAIN",
            gift_message=fields.get("gift_message", ""),
        )
        order = orders.order_create(tenant=tenant, data=data, actor="seed_demo")
        return Order.objects.get(pk=order.pk)

    def _pick_all(self, wave) -> None:
        for pick_list in wave.pick_lists.all():
            while task := picking.next_task(pick_list=pick_list):
                picking.pick_confirm(
                    pick_list=pick_list,
                    task_id=task.pk,
                    location_barcode=task.location.code,
                    product_barcode=task.product.sku,
                    quantity=task.remaining,
                    actor="seed_demo",
                )
            assert not pick_list.tasks.filter(status=TaskStatus.OPEN).exists()

    def _orders(self, tenants, warehouse) -> None:
        acme, globex = tenants["acme"], tenants["globex"]
        # Orders that will travel to shipped / delivered / returned.
        travelling = [
            self._order(acme, 1, [("TEE-RED-M", 2)]),
            self._order(acme, 2, [("HOODIE-GRY-M", 1), ("SOCKS-3PK", 2)], method="express"),
            self._order(globex, 1, [("CABLE-USB-C", 3)]),
            self._order(globex, 2, [("CHARGER-65W", 1)], method="same_day"),
        ]
        wave = picking.wave_build(warehouse=warehouse, strategy="batch", max_orders=10, actor="seed_demo")
        self._pick_all(wave)
        for order in travelling:
            shipment = packing.order_pack(order_id=order.pk, actor="seed_demo")
            shipping.shipment_purchase_label(shipment_id=shipment.pk)
        # The rate-sheet carrier has no tracking of its own: its scans are entered as a carrier pushes them.
        for order in travelling[:2]:
            shipment = order.shipments.get()
            for code in ("in_transit", "delivered"):
                shipping.shipment_tracking_event_add(
                    shipment_id=shipment.pk, code=code, occurred_at=timezone.now(), location="Toronto ON"
                )
        self._on_the_way(travelling[2], travelling[3])
        # Acme buys prepaid return labels on the rate-sheet account, so that a shopper can return the
        # delivered DEMO-ACME-2 in the returns portal end to end (printed by _print_logins); an opened
        # unit costs the shopper a 10 % restocking fee and a return 5.00 of shipping (exchanges free).
        returns.return_policy_update(
            tenant_id=acme.pk,
            changes=returns.PolicyInput(
                label_account="demo-post",
                label_service="standard",
                restocking_fee_percent="10",
                return_shipping_fee="5.00",
            ),
            actor="seed_demo",
        )
        returns_order = travelling[0]
        rma = returns.return_create(
            tenant_id=acme.pk,
            order_id=returns_order.pk,
            lines=[{"sku": "TEE-RED-M", "quantity": 1, "reason": "Too small"}],
            actor="seed_demo",
        )
        returns.return_receive(
            return_id=rma.pk,
            lines=[{"sku": "TEE-RED-M", "quantity": 1, "condition": "new", "disposition": "restock"}],
            actor="seed_demo",
        )
        # Picked, but not packed yet (one a gift: its slip has a gift note and no prices).
        self._order(acme, 3, [("TEE-BLU-L", 1)], gift_message="Happy birthday, Sam! Love, Alex")
        self._order(globex, 3, [("CABLE-USB-C", 1)])
        # Three units of two SKUs: the pack station draws them in their box and weighs the parcel.
        self._order(acme, 10, [("TEE-RED-M", 2), ("HOODIE-GRY-M", 1)], method="express")
        self._pick_all(picking.wave_build(warehouse=warehouse, strategy="batch", max_orders=10, actor="seed_demo"))
        # In a released wave, waiting for the picker (the handheld page has work to do).
        for n in range(4, 7):
            self._order(acme, n, [("TEE-RED-M", 1), ("SOCKS-3PK", 1)])
        self._order(globex, 4, [("CHARGER-65W", 2)], method="express")
        picking.wave_build(warehouse=warehouse, strategy="batch", max_orders=10, actor="seed_demo")
        # Allocated, not yet in a wave.
        self._order(acme, 7, [("TEE-BLU-L", 2)], method="express")
        self._order(globex, 5, [("CABLE-USB-C", 2)])
        # Waiting for stock, on hold, cancelled.
        self._order(globex, 6, [("EARBUDS-PRO", 1)])
        self._order(acme, 8, [("TEE-RED-M", 1)], payment="pending")
        self._order(acme, 9, [("SOCKS-3PK", 1)], ship_to=_address("Bad Address", postal_code="12345"))
        cancelled = self._order(globex, 7, [("CHARGER-65W", 1)])
        orders.order_cancel(order_id=cancelled.pk, actor="seed_demo", reason="customer changed their mind")
        counts = {s: Order.objects.filter(status=s).count() for s in Status.values}
        self.stdout.write("Orders by status: " + ", ".join(f"{k} {v}" for k, v in counts.items() if v))

    def _on_the_way(self, moving: Order, late: Order) -> None:
        """Scans for the late page and the shipment pages: one parcel moving through the network, and
        one the carrier now expects after the promised day (tracking flags it delayed at its next scan)."""
        scans = [
            ("in_transit", "Departed facility", "Mississauga ON"),
            ("in_transit", "Arrived at sort facility", "Toronto ON"),
            ("in_transit", "Departed sort facility", "Toronto ON - East"),
        ]
        shipment = moving.shipments.get()
        for code, description, location in scans:
            shipping.shipment_tracking_event_add(
                shipment_id=shipment.pk,
                code=code,
                occurred_at=timezone.now(),
                description=description,
                location=location,
            )
        shipment = late.shipments.get()
        late.refresh_from_db()
        # The carrier's new estimate, two days after the promise (as a carrier's poll would bring it).
        packing.shipments_set_status_many(
            moves={}, estimates={shipment.pk: late.promised_delivery_date + timedelta(days=2)}
        )
        for code, description, location in (
            ("in_transit", "Departed facility", "Mississauga ON"),
            ("delivery_delayed", "Delayed by weather", "Kingston ON"),
        ):
            shipping.shipment_tracking_event_add(
                shipment_id=shipment.pk,
                code=code,
                occurred_at=timezone.now(),
                description=description,
                location=location,
            )

    def _inventory_work(self, tenants, warehouse) -> None:
        """Work for the inventory pages: an ASN to receive, a pick face to refill, counts, forecasts."""
        acme = tenants["acme"]
        supplier = replenishment.supplier_create(tenant_id=acme.pk, name="Acme Mills", lead_time_days=10)
        Product.objects.filter(tenant=acme).update(supplier=supplier)
        Product.objects.filter(tenant=acme, sku__in=["TEE-RED-M", "SOCKS-3PK"]).update(abc_class="A")
        inventory.inbound_create(
            tenant_id=acme.pk,
            warehouse=warehouse,
            reference="PO-ACME-2",
            lines=[
                inventory.InboundLineInput(sku="TEE-BLU-L", quantity=24),
                inventory.InboundLineInput(sku="HOODIE-GRY-M", quantity=6),
            ],
        )
        tee = Product.objects.get(tenant=acme, sku="TEE-RED-M")
        face = Location.objects.get(warehouse=warehouse, code="01-01-1")
        replenishment.pick_face_create(tenant_id=acme.pk, product=tee, location=face, min_quantity=5, max_quantity=20)
        replenishment.pick_faces_replenish(warehouse_id=warehouse.pk)
        counts.cycle_counts_schedule(warehouse_id=warehouse.pk)
        replenishment.demand_refresh()
        replenishment.replenishment_run()

    # -- the answer ------------------------------------------------------------------------

    def _print_logins(self, *, base_url: str) -> None:
        lines = ["", f"Demo logins (web: {base_url}/login/):"]
        for username in ("manager", "associate"):
            lines.append(f"  {username} / {PASSWORD}")
        lines.append(f"Merchant portal logins (web: {base_url}/portal/):")
        for slug in CATALOG:
            # Created (or its password reset) on every run, so that a re-run prints working logins.
            tenancy.merchant_user_create(
                tenant=Tenant.objects.get(slug=slug), username=f"{slug}-merchant", password=PASSWORD
            )
            lines.append(f"  {slug}-merchant / {PASSWORD}")
        lines.append("Merchant API keys (shown once):")
        for slug in CATALOG:
            tenant = Tenant.objects.get(slug=slug)
            _, raw = tenancy.api_key_create(tenant=tenant, name="seed_demo")
            lines.append(f"  {slug}: {raw}")
        from django.contrib.auth import get_user_model

        manager = get_user_model().objects.get(username="manager")
        _, token = tenancy.staff_token_create(user=manager, name="seed_demo")
        lines.append(f"Staff token (manager): {token}")
        demo = Order.objects.filter(tenant__slug="acme", external_id=RETURNS_DEMO_ORDER).first()
        if demo is not None:
            lines.append(f"Shopper returns portal: {base_url}/returns/acme/")
            lines.append(f"  try order {demo.external_id} with {(demo.ship_to or {}).get('email', '')} ({demo.status})")
        self.stdout.write("\n".join(lines))
