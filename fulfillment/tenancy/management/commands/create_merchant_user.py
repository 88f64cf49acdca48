from django.core.management.base import BaseCommand, CommandError

from fulfillment.tenancy.models import Tenant
from fulfillment.tenancy.rls import in_operator_scope
from fulfillment.tenancy.services import TenancyError, merchant_user_create


class Command(BaseCommand):
    help = "Create (or reset the password of) a merchant portal login for a tenant; prints the username last."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--tenant", required=True, help="The tenant's slug")
        parser.add_argument("--password", required=True)
        parser.add_argument("--email", default="")

    @in_operator_scope
    def handle(self, *args, username: str, tenant: str, password: str, email: str, **options):
        username = username.strip()
        if not username or len(username) > 150:
            raise CommandError("username must be 1 to 150 characters")
        if len(password) < 8:
            raise CommandError("password must be at least 8 characters")
        found = Tenant.objects.filter(slug=tenant.strip()).first()
        if found is None:
            raise CommandError(f"unknown tenant {tenant!r}")
        try:
            user = merchant_user_create(tenant=found, username=username, password=password, email=email.strip())
        except TenancyError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"portal login for {found.slug} (sign in at /login/):")
        self.stdout.write(user.get_username())
