from django.core.management.base import BaseCommand

from shipping import services


class Command(BaseCommand):
    help = (
        "Re-encrypt every carrier account's credentials with the first key of CARRIER_CREDENTIALS_KEYS "
        "(after putting a new key first); prints the number of accounts re-encrypted."
    )

    def handle(self, *args, **options):
        self.stdout.write(f"{services.carrier_credentials_rotate()} accounts re-encrypted")
