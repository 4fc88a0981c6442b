"""The WebSocket routes (the contract fixes the path); :mod:`image_to_video.asgi` serves them."""

from django.urls import re_path

from .consumers import ClientJobsConsumer

websocket_urlpatterns = [
    re_path(r"^ws/image-to-video/clients/(?P<client_id>[^/]+)/?$", ClientJobsConsumer.as_asgi()),
]
