"""``manage.py create_client NAME --user USER [--password P]``; USER is the user model's USERNAME_FIELD."""

import json

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from assets.clients import get_client_model
from assets.models import ApiToken
from assets.users import user_get_or_create, user_key
from tenancy.models import Client, Membership


class Command(BaseCommand):
    help = (
        "Create (or reuse) a client and a user (by the user model's USERNAME_FIELD, e.g. a username or an "
        "e-mail), make the user a member, print ids and an API token."
    )

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--user", required=True, dest="username")
        parser.add_argument("--password", default=None)

    @transaction.atomic
    def handle(self, *args, name, username, password, **options):
        if get_client_model() is not Client:
            raise CommandError(
                f"create_client makes the bundled tenancy's clients, but AIRWAVE_CLIENT_MODEL is "
                f"{get_client_model()._meta.label}: make tenants your platform's way (docs/INSTALL.md)."
            )
        client, _ = Client.objects.get_or_create(name=name)
        user, _ = user_get_or_create(username)
        if password is not None:
            user.set_password(password)
            user.save(update_fields=["password"])
        Membership.objects.get_or_create(client=client, user=user)
        token = ApiToken.objects.filter(user=user).first() or ApiToken.issue(user)
        self.stdout.write(json.dumps({"clientId": str(client.id), "userId": user_key(user.pk), "token": token.key}))
