import factory

from inventory import services
from inventory.models import Product, Warehouse


def warehouse(code: str = "MAIN", *, aisles: int = 4, bays: int = 10, levels: int = 2) -> Warehouse:
    return services.warehouse_create(code=code, name=f"Warehouse {code}", aisles=aisles, bays=bays, levels=levels)


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:04d}")
    name = factory.LazyAttribute(lambda p: f"Product {p.sku}")
    weight_g = 250
    length_mm = 200
    width_mm = 150
    height_mm = 50


def product(tenant, sku: str, *, barcode: str | None = None, **fields) -> Product:
    return services.product_create(
        tenant_id=tenant.pk,
        sku=sku,
        name=fields.pop("name", f"Product {sku}"),
        barcodes=[barcode] if barcode else [],
        **{"weight_g": 250, "length_mm": 200, "width_mm": 150, "height_mm": 50, **fields},
    )


def stock(tenant, product_obj: Product, wh: Warehouse, location: str, quantity: int, lot: str = ""):
    """Receive ``quantity`` units into ``location`` through a real ASN receipt."""
    shipment = services.inbound_create(
        tenant_id=tenant.pk, warehouse=wh, lines=[services.InboundLineInput(sku=product_obj.sku, quantity=quantity)]
    )
    return services.inbound_receive(
        shipment_id=shipment.pk,
        lines=[services.ReceiptLineInput(sku=product_obj.sku, quantity=quantity, location=location, lot=lot)],
    )
