import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "platform_site.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402

from image_to_video.asgi import websocket_application  # noqa: E402  ADOPT

application = ProtocolTypeRouter({"http": django_asgi_app, "websocket": websocket_application})
