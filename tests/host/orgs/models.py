"""The platform's own tenant: organisations with integer keys, and seats (its own membership table)."""

from django.conf import settings
from django.db import models


class Organization(models.Model):
    title = models.CharField(max_length=200, unique=True)

    def __str__(self) -> str:
        return self.title


class Seat(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="seats")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="seats")
    active = models.BooleanField(default=True)
