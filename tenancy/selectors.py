"""Who may see what: the one place that answers "is this user in this client?"."""

from __future__ import annotations

import uuid

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from .models import Client


def clients_of(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Client]:
    if not user or not user.is_authenticated:
        return Client.objects.none()
    return Client.objects.filter(memberships__user_id=user.pk)


def parse_client_id(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def is_member(user: AbstractBaseUser | AnonymousUser, client_id: object) -> bool:
    cid = parse_client_id(client_id)
    return cid is not None and clients_of(user).filter(pk=cid).exists()
