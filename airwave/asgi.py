"""One ASGI app for HTTP and WebSockets (``make serve`` runs it under uvicorn)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "airwave.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402

from image_to_video.asgi import http_application, websocket_application  # noqa: E402
from image_to_video.body_limits import app_route_limit  # noqa: E402

ADMIN_BODY_LIMIT = 2 * 1024 * 1024
OTHER_BODY_LIMIT = 256 * 1024


def body_limit(path: str) -> int:
    """The apps' own limits on their routes; this project bounds every other body too."""
    return app_route_limit(path) or (ADMIN_BODY_LIMIT if path.startswith("/admin/") else OTHER_BODY_LIMIT)


application = ProtocolTypeRouter(
    {"http": http_application(django_asgi_app, body_limit), "websocket": websocket_application}
)
