"""Reads of assets, scoped to the user's clients."""

from django.db.models import QuerySet

from airwave.tenancy import clients_of

from .models import Asset


def assets_visible_to(user) -> QuerySet[Asset]:
    return (
        Asset.objects.filter(client__in=clients_of(user)).select_related("job").prefetch_related("tags", "categories")
    )
