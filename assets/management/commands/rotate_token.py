"""``manage.py rotate_token USER``: a new API token for the user; the old one stops working at once."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from assets.models import ApiToken
from assets.users import user_by_natural_key, user_key


class Command(BaseCommand):
    help = 'Replace USER\'s API token (USER: the user model\'s USERNAME_FIELD); prints {"userId", "token"}.'

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    @transaction.atomic
    def handle(self, *args: Any, username: str, **options: Any) -> None:
        user = user_by_natural_key(username)
        if user is None:
            raise CommandError(f"no user {username!r}")
        token = ApiToken.issue(user)
        self.stdout.write(json.dumps({"userId": user_key(user.pk), "token": token.key}))
