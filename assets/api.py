"""The asset library's API. Every view declares its own policy (:mod:`.policy`, its filters and pagination):
the host's REST_FRAMEWORK defaults change nothing here."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.urls import reverse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from .filters import AssetFilter
from .models import Asset
from .policy import ApiPolicy, PageSizePagination
from .selectors import assets_visible_to
from .serializers import AssetOut, ShareOut, ShareRequest
from .services import share_link_create, share_links_revoke
from .views import part_response


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


MEMBERS_ONLY = {"Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff"}


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
        if asset is None:
            raise Http404
        return part_response(asset, self.part, MEMBERS_ONLY)


class AssetShareView(ApiPolicy):
    """``POST``: a link that plays the asset's video without an account for ``expiresIn`` seconds;
    ``DELETE``: every link of the asset stops working. Members of the asset's client only."""

    def _asset(self, request, asset_id: str) -> Asset:
        try:
            asset = assets_visible_to(request.user).filter(pk=asset_id).first()
        except (ValidationError, ValueError, DjangoValidationError):
            asset = None
        if asset is None:
            raise Http404
        return asset

    @extend_schema(request=ShareRequest, responses={201: ShareOut}, summary="Make a share link")
    def post(self, request, assetId: str) -> Response:
        asset = self._asset(request, assetId)
        form = ShareRequest(data=request.data, context={"asset": asset})
        form.is_valid(raise_exception=True)
        token, link = share_link_create(asset=asset, user=request.user, expires_in=form.validated_data["expiresIn"])
        url = request.build_absolute_uri(reverse("assets:shared", args=[token]))
        body = ShareOut({"url": url, "expiresAt": link.expires_at}).data
        return Response(body, status=status.HTTP_201_CREATED, headers={"Cache-Control": "no-store"})

    @extend_schema(request=None, responses={204: None}, summary="Revoke every share link of the asset")
    def delete(self, request, assetId: str) -> Response:
        share_links_revoke(asset=self._asset(request, assetId))
        return Response(status=status.HTTP_204_NO_CONTENT)
