"""``manage.py make_org TITLE --user EMAIL --password P``: an organisation, a user with a seat, an API token."""

import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from assets.models import ApiToken
from orgs.models import Organization, Seat


class Command(BaseCommand):
    def add_arguments(self, parser):
        parser.add_argument("title")
        parser.add_argument("--user", required=True)
        parser.add_argument("--password", required=True)

    def handle(self, *args, title, user, password, **options):
        org, _ = Organization.objects.get_or_create(title=title)
        person = get_user_model().objects.create_user(user, password)
        Seat.objects.create(organization=org, user=person)
        token = ApiToken.issue(person)
        self.stdout.write(json.dumps({"clientId": str(org.pk), "userId": str(person.pk), "token": token.key}))
