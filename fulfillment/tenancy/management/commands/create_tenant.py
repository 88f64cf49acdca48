from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_slug

from fulfillment.tenancy.rls import in_operator_scope
from fulfillment.tenancy.services import TenancyError, tenant_create


def _warehouse_exists(code: str) -> bool:
    # Warehouses live in a higher layer (inventory), so the model is looked up by name, not imported.
    return apps.get_model("inventory", "Warehouse").objects.filter(code=code).exists()


class Command(BaseCommand):
    help = "Create a merchant tenant and its first API key; prints the API key last."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="URL-safe identifier, e.g. acme")
        parser.add_argument("--name", required=True, help="Display name")
        parser.add_argument("--warehouse", default="", help="Code of the tenant's default warehouse")

    @in_operator_scope
    def handle(self, *args, slug: str, name: str, warehouse: str, **options):
        slug = slug.strip()
        try:
            validate_slug(slug)
        except ValidationError:
            raise CommandError(f"invalid slug {slug!r}: use letters, digits, hyphens and underscores") from None
        if not name.strip():
            raise CommandError("--name must not be empty")
        warehouse = warehouse.strip().upper()
        if warehouse and not _warehouse_exists(warehouse):
            raise CommandError(f"unknown warehouse {warehouse}")
        try:
            tenant, raw_key = tenant_create(slug=slug, name=name.strip(), default_warehouse_code=warehouse)
        except TenancyError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"created tenant {tenant.slug} ({tenant.name}); its API key (shown once):")
        self.stdout.write(raw_key)
