"""API tokens that expire: DRF's TokenAuthentication on the apps' own token model, refusing tokens older
than TOKEN_MAX_AGE_DAYS.

``manage.py rotate_token USER`` replaces a user's token at any time.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from .conf import get_config
from .models import ApiToken


def token_is_current(token: ApiToken) -> bool:
    max_age = get_config().TOKEN_MAX_AGE_DAYS
    return not max_age or token.created >= timezone.now() - timedelta(days=max_age)


class ExpiringTokenAuthentication(TokenAuthentication):
    model = ApiToken

    def authenticate_credentials(self, key: str) -> tuple[Any, ApiToken]:
        user, token = super().authenticate_credentials(key)
        if not token_is_current(token):
            raise exceptions.AuthenticationFailed("Token expired; ask for a new one (manage.py rotate_token).")
        return user, token


def user_for_token(key: str) -> Any:
    """The active user of a current token, or None (for WebSockets' ``?token=``)."""
    token = ApiToken.objects.select_related("user").filter(key=key).first()
    if token is None or not token.user.is_active or not token_is_current(token):
        return None
    return token.user
