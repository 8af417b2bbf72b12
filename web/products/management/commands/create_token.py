"""`python -m web create_token <username> [--name NAME]`: print a new API token's key.

The user is created (without a usable password) if missing, so a script can get a token
on a fresh database in one step.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser

from web.products.models import ApiToken


class Command(BaseCommand):
    help = "Create an API token for USERNAME (creating the user if missing) and print its key."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="what the token is for, e.g. 'seed'")

    def handle(self, *args, username: str, name: str, **options) -> None:
        user, created = get_user_model().objects.get_or_create(username=username)
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
            self.stderr.write(f"created user {username!r}")
        token = ApiToken.objects.create(user=user, name=name)
        # Only the key on stdout: `KEY=$(python -m web create_token me)` works.
        self.stdout.write(token.key)
