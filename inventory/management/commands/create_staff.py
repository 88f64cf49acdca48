from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from fulfillment.tenancy.models import Role
from fulfillment.tenancy.rls import in_operator_scope
from fulfillment.tenancy.services import TenancyError, staff_create
from inventory.models import Warehouse


class Command(BaseCommand):
    help = "Create (or update) a staff user assigned to a warehouse; prints a staff API token last."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--password", required=True)
        parser.add_argument("--role", required=True, help=" | ".join(Role.values))
        parser.add_argument("--warehouse", required=True, help="The warehouse code")

    @in_operator_scope
    def handle(self, *args, username: str, password: str, role: str, warehouse: str, **options):
        username = username.strip()
        if not username:
            raise CommandError("the username must not be empty")
        if role not in Role.values:
            raise CommandError(f"invalid role {role!r}: use one of {', '.join(Role.values)}")
        site = Warehouse.objects.filter(code=warehouse.strip().upper()).first()
        if site is None:
            raise CommandError(f"unknown warehouse {warehouse}")
        existing = get_user_model().objects.filter(username=username).first()
        try:
            validate_password(password, user=existing)
        except ValidationError as exc:
            raise CommandError("password refused: " + " ".join(exc.messages)) from None
        try:
            with transaction.atomic():
                user, raw_token = staff_create(username=username, password=password, role=role)
                site.staff.add(user)
        except TenancyError as exc:
            raise CommandError(str(exc)) from None
        verb = "updated" if existing else "created"
        self.stdout.write(f"{verb} {role} {user.get_username()} in {site.code}; staff token (shown once):")
        self.stdout.write(raw_token)
