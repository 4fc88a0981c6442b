"""The asset library: stored files with tags, categories and metadata.

A library any app can file into; it knows nothing of the apps that do.
"""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse

from .clients import client_model_label
from .storage import get_files_storage, presigned_url


class Tag(models.Model):
    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Category(models.Model):
    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Asset(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(client_model_label(), on_delete=models.CASCADE, related_name="library_assets")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assets")
    origin = models.CharField(
        max_length=200,
        null=True,
        blank=True,
        unique=True,
        help_text="What the asset was made from, e.g. 'image_to_video.job:<id>': one asset per origin.",
    )
    file = models.FileField(max_length=500, storage=get_files_storage)
    name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    duration = models.FloatField(null=True, blank=True)
    fps = models.FloatField(null=True, blank=True)
    frame_count = models.PositiveIntegerField(null=True, blank=True)
    codec = models.CharField(max_length=40, blank=True, default="")
    bitrate = models.PositiveBigIntegerField(null=True, blank=True, help_text="bits per second")
    poster = models.FileField(
        max_length=500, blank=True, default="", storage=get_files_storage, help_text="A still of the video (JPEG)."
    )
    metadata = models.JSONField(default=dict, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="assets")
    categories = models.ManyToManyField(Category, blank=True, related_name="assets")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["client", "-created_at"])]

    def __str__(self) -> str:
        return self.name

    def file_url(self) -> str:
        """A presigned URL on S3, else the members-only view that serves the file."""
        return presigned_url(self.file.name or "", self.file.storage) or reverse("assets:asset-file", args=[self.pk])

    def poster_url(self) -> str | None:
        """The poster's URL, presigned like the file's; None when the asset has no poster."""
        if not self.poster:
            return None
        return presigned_url(self.poster.name or "", self.poster.storage) or reverse(
            "assets:asset-poster", args=[self.pk]
        )


class ShareLink(models.Model):
    """A link that plays one asset's video without an account until ``expires_at``.

    Only the SHA-256 of the link's token is kept: the database (or a backup) gives no working link.
    """

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="share_links")
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "share link"

    def __str__(self) -> str:
        return f"share link of {self.asset_id} until {self.expires_at:%Y-%m-%d %H:%M}"


class ApiToken(models.Model):
    """An API key for ``Authorization: Token <key>`` (and ``?token=`` on a socket); one per user.

    The apps' own model (here, in the app every host installs), so a host need not install
    ``rest_framework.authtoken``;
    the same wire format and key shape as DRF's tokens, which the migration copies in.
    """

    key = models.CharField(max_length=40, primary_key=True)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="airwave_api_token")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"token of {self.user}"

    @classmethod
    def issue(cls, user) -> ApiToken:
        """A new token for ``user``; the previous one stops working at once."""
        cls.objects.filter(user=user).delete()
        return cls.objects.create(user=user, key=secrets.token_hex(20))
