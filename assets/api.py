from django.http import Http404
from rest_framework import viewsets
from rest_framework.exceptions import ValidationError

from .filters import AssetFilter
from .selectors import assets_visible_to
from .serializers import AssetOut


class AssetViewSet(viewsets.ReadOnlyModelViewSet):
    """The caller's clients' assets; anything else is not found."""

    serializer_class = AssetOut
    filterset_class = AssetFilter
    lookup_url_kwarg = "assetId"

    def get_queryset(self):
        return assets_visible_to(self.request.user)

    def get_object(self):
        try:
            return super().get_object()
        except (ValidationError, ValueError):
            raise Http404 from None
