"""The asset library's API at the host's prefix: the list at the prefix itself, one asset at ``<assetId>``,
its file and poster (local storage: served to members only) at ``<assetId>/file`` and ``<assetId>/poster``;
share links made at ``<assetId>/share`` play at ``shared/<token>`` without an account."""

from django.urls import re_path

from .api import AssetFileView, AssetShareView, AssetViewSet
from .views import shared_file, shared_page, shared_poster

app_name = "assets"
ASSET = r"(?P<assetId>[0-9a-fA-F-]{1,64})"
SHARED = r"shared/(?P<token>[A-Za-z0-9_-]{16,64})"

urlpatterns = [
    re_path(r"^$", AssetViewSet.as_view({"get": "list"}), name="asset-list"),
    re_path(rf"^{ASSET}/?$", AssetViewSet.as_view({"get": "retrieve"}), name="asset-detail"),
    re_path(rf"^{ASSET}/file/?$", AssetFileView.as_view(part="file"), name="asset-file"),
    re_path(rf"^{ASSET}/poster/?$", AssetFileView.as_view(part="poster"), name="asset-poster"),
    re_path(rf"^{ASSET}/share/?$", AssetShareView.as_view(), name="asset-share"),
    re_path(rf"^{SHARED}/?$", shared_page, name="shared"),
    re_path(rf"^{SHARED}/file/?$", shared_file, name="shared-file"),
    re_path(rf"^{SHARED}/poster/?$", shared_poster, name="shared-poster"),
]
