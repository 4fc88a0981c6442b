"""The platform's tenants as the apps see them: which model they are, and who belongs to which.

``AIRWAVE_CLIENT_MODEL`` (default ``"tenancy.Client"``) names the model every client foreign key points
to, swappable as Django's user model is (integer or UUID keys; a string on the wire).
Membership is the one place every decision of the apps goes through (API, WebSocket, tickets, media,
deliveries, webhook secrets, the page).

``AIRWAVE_CLIENT_ACCESS`` names a callable ``(user) -> iterable of client keys`` the user belongs to
(default: the bundled tenancy app's memberships, ``tenancy.access.client_keys_for``). A host with its
own membership rules (seats, roles, invitations) points it at its own function; a queryset of keys is
best, since it stays a subquery.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.signals import setting_changed
from django.db.models import Model, QuerySet
from django.dispatch import receiver
from django.utils.module_loading import import_string

DEFAULT_MODEL = "tenancy.Client"
DEFAULT_ACCESS = "tenancy.access.client_keys_for"


def client_model_label() -> str:
    """``AIRWAVE_CLIENT_MODEL``: the model every client foreign key of the apps points to (``app.Model``)."""
    return str(getattr(settings, "AIRWAVE_CLIENT_MODEL", DEFAULT_MODEL))


def get_client_model() -> type[Model]:
    """The tenant model (as Django's ``get_user_model()`` is the user model)."""
    return apps.get_model(client_model_label(), require_ready=False)


@functools.cache
def client_access() -> Callable[[Any], Iterable[Any]]:
    access: Callable[[Any], Iterable[Any]] = import_string(getattr(settings, "AIRWAVE_CLIENT_ACCESS", DEFAULT_ACCESS))
    return access


@receiver(setting_changed)
def _access_changed(*, setting: str, **_: Any) -> None:
    if setting == "AIRWAVE_CLIENT_ACCESS":
        client_access.cache_clear()


def client_keys_of(user: Any) -> Iterable[Any]:
    """The keys of the clients ``user`` belongs to (none for anonymous or inactive users)."""
    if user is None or not user.is_authenticated or not getattr(user, "is_active", True):
        return []
    return client_access()(user)


def member_client_keys(user: Any) -> QuerySet[Any] | list[Any]:
    """The keys of ``user``'s clients for ``client_id__in=``: the access callable's queryset as it is (one
    subquery, nothing fetched), or its keys as a list."""
    keys = client_keys_of(user)
    return keys if isinstance(keys, QuerySet) else list(keys)


def clients_of(user: Any) -> QuerySet[Any]:
    keys = client_keys_of(user)
    model = get_client_model()
    if not isinstance(keys, QuerySet):
        keys = list(keys)
    return model._default_manager.filter(pk__in=keys)


def parse_client_key(value: object) -> Any:
    """``value`` (from a URL or a body) as a key of the client model, or None when it cannot be one."""
    try:
        return get_client_model()._meta.pk.to_python(str(value)) if value not in (None, "") else None
    except (ValidationError, ValueError, TypeError):
        return None


def is_member(user: Any, client_key: object) -> bool:
    key = parse_client_key(client_key)
    return key is not None and clients_of(user).filter(pk=key).exists()
