"""Users by their natural key, whatever the host's user model calls it (``USERNAME_FIELD``).

The functions return ``Any``: the host's user model, which type checkers know only as the project's.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model


def user_key(pk: Any) -> int | str:
    """A user's key as it goes on the wire and into JSON: a number for integer keys (the contract's
    examples), else its string (a host's UUID keys, which JSON cannot carry as they are)."""
    return pk if isinstance(pk, int) else str(pk)


def user_by_natural_key(value: str) -> Any:
    model = get_user_model()
    try:
        return model._default_manager.get_by_natural_key(value)
    except model.DoesNotExist:
        return None


def user_get_or_create(value: str) -> tuple[Any, bool]:
    """The user whose USERNAME_FIELD is ``value``, made (without a usable password) when there is none."""
    user = user_by_natural_key(value)
    if user is not None:
        return user, False
    model: Any = get_user_model()
    fields = {model.USERNAME_FIELD: value}
    email_field = model.get_email_field_name()
    if email_field != model.USERNAME_FIELD and "@" in value and hasattr(model, email_field):
        fields[email_field] = value
    user = model(**fields)
    user.set_unusable_password()
    user.save()
    return user, True


def user_search_fields() -> list[str]:
    """For the admins' search: the user model's natural key and e-mail, when it has them."""
    model: Any = get_user_model()
    names = {model.USERNAME_FIELD, model.get_email_field_name()}
    concrete = {f.name for f in model._meta.get_fields() if getattr(f, "concrete", False)}
    return sorted(f"user__{name}" for name in names if name in concrete)
