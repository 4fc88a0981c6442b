"""AIRWAVE_CLIENT_ACCESS: the organisations a user holds an active seat in."""

from .models import Seat


def client_ids_for(user):
    return Seat.objects.filter(user_id=user.pk, active=True).values_list("organization_id", flat=True)
