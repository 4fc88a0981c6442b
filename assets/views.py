"""Local media (no S3): served only to members of the asset's client."""

from django.http import FileResponse, Http404
from drf_spectacular.utils import extend_schema
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import IsAuthenticated

from .selectors import assets_visible_to


@extend_schema(exclude=True)
@api_view(["GET"])
@authentication_classes([SessionAuthentication, TokenAuthentication])
@permission_classes([IsAuthenticated])
def protected_media(request, path: str):
    asset = assets_visible_to(request.user).filter(file=path).first()
    if asset is None:
        raise Http404
    name = asset.file.name or ""
    try:
        handle = asset.file.storage.open(name, "rb")
    except FileNotFoundError:
        raise Http404 from None
    return FileResponse(handle, content_type=asset.content_type, as_attachment=False, filename=name.rsplit("/", 1)[-1])
