"""The platform's tenancy: clients, and which users belong to which."""

import uuid

from django.conf import settings
from django.db import models


class Client(models.Model):
    """A tenant of the platform; everything a user makes belongs to one."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="clients")

    class Meta:
        db_table = "airwave_client"  # the table it had when it lived in the project package
        ordering = ["name"]
        swappable = "AIRWAVE_CLIENT_MODEL"  # a host names its own tenant model instead

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "airwave_membership"
        constraints = [models.UniqueConstraint(fields=["client", "user"], name="one_membership_per_user_client")]

    def __str__(self) -> str:
        return f"{self.user} in {self.client}"
