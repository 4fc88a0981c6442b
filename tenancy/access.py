"""The bundled tenancy's answer to "which clients does this user belong to?" (``AIRWAVE_CLIENT_ACCESS``)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from .models import Membership


def client_keys_for(user: Any) -> QuerySet[Any]:
    return Membership.objects.filter(user_id=user.pk).values_list("client_id", flat=True)
