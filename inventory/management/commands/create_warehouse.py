from django.core.management.base import BaseCommand, CommandError

from inventory.models import CUTOFF_METHODS
from inventory.services import InventoryError, warehouse_create


class Command(BaseCommand):
    help = (
        "Create a warehouse with zones, storage locations AA-BB-L and RECEIVING, PACKING, SHIPPING, RETURNS, "
        "QUARANTINE; prints the warehouse code last."
    )

    def add_arguments(self, parser):
        parser.add_argument("code", help="Short code, e.g. MAIN (stored upper-case)")
        parser.add_argument("--name", required=True)
        parser.add_argument("--aisles", type=int, required=True, help="1 to 99")
        parser.add_argument("--bays", type=int, required=True, help="bays per aisle, 1 to 99")
        parser.add_argument("--levels", type=int, required=True, help="levels per bay, 1 to 9")
        parser.add_argument(
            "--country", default="CA", help="ISO 3166-1 alpha-2; its public holidays are not business days"
        )
        parser.add_argument(
            "--subdivision", default="", help="state or province whose holidays also count, e.g. ON (optional)"
        )
        parser.add_argument("--timezone", default="America/Toronto", help="IANA time zone of the cut-offs")
        parser.add_argument(
            "--cutoff",
            action="append",
            default=[],
            metavar="METHOD=HH:MM",
            help=f"local cut-off of a service level ({', '.join(CUTOFF_METHODS)}); repeatable; others use 14:00",
        )

    def handle(self, *args, code: str, name: str, aisles: int, bays: int, levels: int, **options):
        if not name.strip():
            raise CommandError("--name must not be empty")
        cutoffs = {}
        for item in options["cutoff"]:
            method, sep, value = item.partition("=")
            method = method.strip().lower()
            if not sep or not method:
                raise CommandError(f"--cutoff {item!r} must look like METHOD=HH:MM, e.g. express=15:00")
            if method in cutoffs:
                raise CommandError(f"--cutoff names {method} twice")
            cutoffs[method] = value.strip()
        try:
            warehouse = warehouse_create(
                code=code,
                name=name.strip(),
                aisles=aisles,
                bays=bays,
                levels=levels,
                country=options["country"].strip().upper(),
                subdivision=options["subdivision"].strip().upper(),
                timezone_name=options["timezone"].strip(),
                cutoffs=cutoffs,
            )
        except InventoryError as exc:
            raise CommandError(str(exc)) from None
        storage = aisles * bays * levels
        self.stdout.write(f"created warehouse {warehouse.name} with {storage} storage locations")
        self.stdout.write(warehouse.code)
