import sys

from django.core.management.base import BaseCommand

from fulfillment.tenancy.rls import in_operator_scope
from inventory.services import ledger_differences


class Command(BaseCommand):
    help = "Verify that stock movements sum to balances; prints 'ledger ok' or the differences (exit status 1)."

    @in_operator_scope
    def handle(self, *args, **options):
        problems = ledger_differences()
        if not problems:
            self.stdout.write("ledger ok")
            return
        for problem in problems:
            self.stdout.write(problem)
        self.stdout.flush()
        # The differences are the last thing printed (no CommandError banner after them); exit 1.
        sys.exit(1)
