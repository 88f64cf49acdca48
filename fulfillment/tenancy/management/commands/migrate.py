"""``migrate`` as the schema owner, then the app role and its grants (row-level security)."""

from django.conf import settings
from django.core.management.commands import migrate
from django.db import connections

from fulfillment.db import as_owner
from fulfillment.tenancy.rls import grant_app_role


class Command(migrate.Command):
    help = migrate.Command.help + " Creates the app role (DATABASE_APP_ROLE) and grants it the tables."

    def handle(self, *args, **options):
        with as_owner(options["database"]):
            super().handle(*args, **options)
            grant_app_role(connections[options["database"]], settings.DATABASE_APP_ROLE)
