from django.core.management.base import BaseCommand, CommandError

from fulfillment.tenancy.models import Tenant
from fulfillment.tenancy.rls import in_operator_scope
from fulfillment.tenancy.services import api_key_create


class Command(BaseCommand):
    help = "Create another API key for a tenant; prints the API key last."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="The tenant's slug")
        parser.add_argument("--name", default="", help="A label for the key, e.g. the integration using it")

    @in_operator_scope
    def handle(self, *args, slug: str, name: str, **options):
        tenant = Tenant.objects.filter(slug=slug.strip()).first()
        if tenant is None:
            raise CommandError(f"unknown tenant {slug!r}")
        key, raw_key = api_key_create(tenant=tenant, name=name.strip()[:100])
        self.stdout.write(f"created API key {key.prefix} for {tenant.slug} (shown once):")
        self.stdout.write(raw_key)
