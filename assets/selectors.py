"""Reads of assets, scoped to the user's clients."""

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from .clients import clients_of
from .models import Asset


def assets_visible_to(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Asset]:
    return Asset.objects.filter(client__in=clients_of(user)).prefetch_related("tags", "categories")
