"""One ASGI app for HTTP and WebSockets (``make serve`` runs it under uvicorn)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "airwave.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from airwave.body_limits import BodySizeLimit  # noqa: E402
from image_to_video.auth import TokenAuthMiddleware  # noqa: E402
from image_to_video.dispatch import start_in_process_worker  # noqa: E402
from image_to_video.routing import websocket_urlpatterns  # noqa: E402

start_in_process_worker()  # no broker: jobs run in this process, and orphans of a restart are picked up

application = ProtocolTypeRouter(
    {
        "http": BodySizeLimit(
            django_asgi_app, limits=settings.REQUEST_BODY_LIMITS, default=settings.REQUEST_BODY_DEFAULT_LIMIT
        ),
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(TokenAuthMiddleware(URLRouter(websocket_urlpatterns)))
        ),
    }
)
