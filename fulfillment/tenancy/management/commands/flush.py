"""``flush`` as the schema owner: TRUNCATE is not the app role's to run."""

from django.core.management.commands import flush

from fulfillment.db import as_owner


class Command(flush.Command):
    def handle(self, **options):
        with as_owner(options["database"]):
            super().handle(**options)
