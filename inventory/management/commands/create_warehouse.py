from django.core.management.base import BaseCommand, CommandError

from fulfillment.tenancy.rls import in_operator_scope
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
        address = parser.add_argument_group(
            "ship-from address", "what carriers print and rate from (in --country): all of it, or none for now"
        )
        address.add_argument("--company", default="", help="company on the ship-from, e.g. Acme Logistics Inc.")
        address.add_argument("--contact", default="", help="contact name, e.g. Shipping Desk")
        address.add_argument("--address-line1", default="", help="street address, e.g. 100 Logistics Dr")
        address.add_argument("--address-line2", default="", help="unit, suite or building (optional)")
        address.add_argument("--city", default="")
        address.add_argument("--region", default="", help="state or province where the country has them, e.g. ON")
        address.add_argument("--postal-code", default="", help="e.g. L5T 2Z5")
        address.add_argument("--phone", default="", help="e.g. +19055550100 (a national number is read in --country)")
        parser.add_argument(
            "--cutoff",
            action="append",
            default=[],
            metavar="METHOD=HH:MM",
            help=f"local cut-off of a service level ({', '.join(CUTOFF_METHODS)}); repeatable; others use 14:00",
        )

        parser.add_argument("--aisle-pitch", type=float, default=3.0, help="metres from aisle to aisle (default 3)")
        parser.add_argument("--bay-width", type=float, default=1.0, help="metres per bay along an aisle (default 1)")
        parser.add_argument(
            "--blocks", type=int, default=1, help="blocks per aisle, split by evenly spaced middle cross aisles"
        )
        parser.add_argument(
            "--depot-aisle", type=int, default=1, help="pickers start and end at the front of this aisle (default 1)"
        )
        parser.add_argument(
            "--zone",
            action="append",
            default=[],
            metavar="CODE=FIRST-LAST",
            help="a storage zone of aisles FIRST to LAST, e.g. A=1-2; repeatable; other aisles stay in STORAGE",
        )

    @in_operator_scope
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
        zones = {}
        for item in options["zone"]:
            zone_code, sep, span = item.partition("=")
            first, dash, last = span.partition("-")
            if not sep or not zone_code.strip() or not first.strip().isdigit() or (dash and not last.strip().isdigit()):
                raise CommandError(f"--zone {item!r} must look like CODE=FIRST-LAST, e.g. A=1-2")
            zone_code = zone_code.strip().upper()
            if zone_code in zones:
                raise CommandError(f"--zone names {zone_code} twice")
            zones[zone_code] = (int(first), int(last) if dash else int(first))
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
                aisle_pitch_m=options["aisle_pitch"],
                bay_width_m=options["bay_width"],
                blocks=options["blocks"],
                depot_aisle=options["depot_aisle"],
                zones=zones,
                company_name=options["company"],
                contact_name=options["contact"],
                address_line1=options["address_line1"],
                address_line2=options["address_line2"],
                city=options["city"],
                region=options["region"],
                postal_code=options["postal_code"],
                phone=options["phone"],
            )
        except InventoryError as exc:
            raise CommandError("; ".join(message for _field, message in exc.field_messages())) from None
        storage = aisles * bays * levels
        self.stdout.write(f"created warehouse {warehouse.name} with {storage} storage locations")
        self.stdout.write(warehouse.code)
