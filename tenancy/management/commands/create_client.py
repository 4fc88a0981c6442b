"""``manage.py create_client NAME --user USERNAME [--password P]``."""

import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from rest_framework.authtoken.models import Token

from tenancy.models import Client, Membership


class Command(BaseCommand):
    help = "Create (or reuse) a client and a user, make the user a member, print ids and a DRF token."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--user", required=True, dest="username")
        parser.add_argument("--password", default=None)

    @transaction.atomic
    def handle(self, *args, name, username, password, **options):
        client, _ = Client.objects.get_or_create(name=name)
        user, created = get_user_model().objects.get_or_create(username=username)
        if password is not None:
            user.set_password(password)
            user.save(update_fields=["password"])
        elif created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        Membership.objects.get_or_create(client=client, user=user)
        token, _ = Token.objects.get_or_create(user=user)
        self.stdout.write(json.dumps({"clientId": str(client.id), "userId": user.pk, "token": token.key}))
