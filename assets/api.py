"""The asset library's API. Every view declares its own policy (:mod:`.policy`, its filters and pagination):
the host's REST_FRAMEWORK defaults change nothing here."""

from __future__ import annotations

from django.http import FileResponse, Http404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.exceptions import ValidationError

from .filters import AssetFilter
from .policy import ApiPolicy, PageSizePagination
from .selectors import assets_visible_to
from .serializers import AssetOut


class AssetViewSet(ApiPolicy, viewsets.ReadOnlyModelViewSet):
    """The caller's clients' assets; anything else is not found."""

    serializer_class = AssetOut
    filterset_class = AssetFilter
    filter_backends = [DjangoFilterBackend]
    pagination_class = PageSizePagination
    lookup_url_kwarg = "assetId"

    def get_queryset(self):
        return assets_visible_to(self.request.user)

    def get_object(self):
        try:
            return super().get_object()
        except (ValidationError, ValueError):
            raise Http404 from None


class AssetFileView(ApiPolicy):
    """An asset's video or poster from the apps' private storage, to members of its client only
    (on S3 the API hands out presigned URLs instead, but this works there too)."""

    part = "file"

    @extend_schema(exclude=True)
    def get(self, request, assetId):
        try:
            asset = assets_visible_to(request.user).filter(pk=assetId).first()
        except (ValidationError, ValueError):
            asset = None
        field = getattr(asset, self.part, None)
        if asset is None or not field:
            raise Http404
        try:
            handle = field.storage.open(field.name, "rb")
        except FileNotFoundError:
            raise Http404 from None
        content_type = asset.content_type if self.part == "file" else "image/jpeg"
        filename = (field.name or "").rsplit("/", 1)[-1]
        response = FileResponse(handle, content_type=content_type, as_attachment=False, filename=filename)
        response["Cache-Control"] = "private, max-age=300"
        response["X-Content-Type-Options"] = "nosniff"
        return response
