"""Row-level security on every inventory table with a tenant (fulfillment.tenancy.rls)."""

from django.db import migrations

from fulfillment.tenancy.rls import EnableTenantRLS


class Migration(migrations.Migration):
    dependencies = [("inventory", "0007_count_hold")]

    operations = [
        EnableTenantRLS("inventory_adjustment"),
        EnableTenantRLS("inventory_cyclecountline"),
        EnableTenantRLS("inventory_demandday"),
        EnableTenantRLS("inventory_inbounddiscrepancy"),
        EnableTenantRLS("inventory_inboundline"),
        EnableTenantRLS("inventory_inboundshipment"),
        EnableTenantRLS("inventory_lot"),
        EnableTenantRLS("inventory_movetask"),
        EnableTenantRLS("inventory_pickface"),
        EnableTenantRLS("inventory_product"),
        EnableTenantRLS("inventory_productbarcode"),
        EnableTenantRLS("inventory_purchaseorder"),
        EnableTenantRLS("inventory_purchaseorderline"),
        EnableTenantRLS("inventory_receipt"),
        EnableTenantRLS("inventory_reordersuggestion"),
        EnableTenantRLS("inventory_stockalert"),
        EnableTenantRLS("inventory_stockbalance"),
        EnableTenantRLS("inventory_stockmovement"),
        EnableTenantRLS("inventory_supplier"),
    ]
