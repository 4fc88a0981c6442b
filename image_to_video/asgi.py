"""ASGI pieces a host mounts in its own ``asgi.py`` (after ``get_asgi_application()`` has set Django up)::

    django_asgi_app = get_asgi_application()
    from image_to_video.asgi import http_application, websocket_application
    application = ProtocolTypeRouter({"http": http_application(django_asgi_app), "websocket": websocket_application})

``websocket_application`` serves ``/ws/image-to-video/clients/<clientId>/``: the Origin checked against
ALLOWED_HOSTS, the user from a ticket (``?ticket=``), an API token (``?token=``) or the session.
``http_application`` bounds request bodies on the apps' routes before Django reads them (opt-in: the
views refuse a declared Content-Length over the limit either way). Without a broker, importing this module
starts the in-process worker, which also takes up the jobs a restart left behind.
"""

from __future__ import annotations

from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from channels.security.websocket import AllowedHostsOriginValidator

from .auth import TokenAuthMiddleware
from .body_limits import ASGIApp, BodySizeLimit, app_route_limit
from .dispatch import start_in_process_worker
from .routing import websocket_urlpatterns

__all__ = ["http_application", "websocket_application"]

websocket_application = AllowedHostsOriginValidator(
    AuthMiddlewareStack(TokenAuthMiddleware(URLRouter(websocket_urlpatterns)))
)


def http_application(app: ASGIApp, limit_for=app_route_limit) -> BodySizeLimit:
    """``app`` (Django's ASGI handler) with the apps' routes' bodies bounded (413 past the limit)."""
    return BodySizeLimit(app, limit_for)


start_in_process_worker()
