from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from .conf import get_config
from .models import Asset
from .selectors import live_share_links
from .users import user_key


@extend_schema_field(
    {
        "oneOf": [{"type": "integer"}, {"type": "string"}],
        "description": "the user's key: a number, or a string for UUID keys",
    }
)
class UserKeyField(serializers.Field):
    """The host's user key, whatever its type (``assets.users.user_key``)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value: Any) -> int | str:
        return user_key(value)


@extend_schema_serializer(component_name="Asset")
class AssetOut(serializers.ModelSerializer):
    assetId = serializers.UUIDField(source="id", read_only=True)
    clientId = serializers.CharField(source="client_id", read_only=True, help_text="the client's key, as a string")
    userId = UserKeyField(source="user_id")
    contentType = serializers.CharField(source="content_type", read_only=True)
    url = serializers.SerializerMethodField()
    posterUrl = serializers.SerializerMethodField()
    frameCount = serializers.IntegerField(source="frame_count", read_only=True, allow_null=True)
    tags: serializers.SlugRelatedField[Asset] = serializers.SlugRelatedField(
        many=True, read_only=True, slug_field="name"
    )
    categories: serializers.SlugRelatedField[Asset] = serializers.SlugRelatedField(
        many=True, read_only=True, slug_field="name"
    )
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = Asset
        fields = [
            "assetId",
            "clientId",
            "userId",
            "name",
            "contentType",
            "size",
            "width",
            "height",
            "duration",
            "fps",
            "frameCount",
            "codec",
            "bitrate",
            "url",
            "posterUrl",
            "tags",
            "categories",
            "metadata",
            "createdAt",
        ]

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, asset: Asset) -> str:
        return asset.file_url()

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_posterUrl(self, asset: Asset) -> str | None:
        return asset.poster_url()


class ShareRequest(serializers.Serializer):
    """POST /api/assets/<assetId>/share."""

    expiresIn = serializers.IntegerField(
        min_value=1, help_text="seconds the link plays the video, 1 s to SHARE_MAX_SECONDS (30 days)"
    )

    def validate_expiresIn(self, value: int) -> int:
        longest = get_config().SHARE_MAX_SECONDS
        if value > longest:
            raise serializers.ValidationError(f"Ensure this value is less than or equal to {longest}.")
        return value

    def validate(self, attrs):
        if live_share_links(self.context["asset"]) >= get_config().SHARE_LINKS_PER_ASSET:
            raise serializers.ValidationError(
                {"expiresIn": [f"This asset has {get_config().SHARE_LINKS_PER_ASSET} live links; revoke them first."]}
            )
        return attrs


class ShareOut(serializers.Serializer):
    url = serializers.URLField(help_text="plays the video without an account until expiresAt")
    expiresAt = serializers.DateTimeField()
