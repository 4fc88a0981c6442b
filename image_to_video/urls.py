from django.urls import path
from rest_framework.routers import SimpleRouter

from .api import JobViewSet, WsTicketView
from .webhooks import ProviderWebhookView

router = SimpleRouter()
router.trailing_slash = "/?"  # the contract's routes have no slash; accept both
router.register("jobs", JobViewSet, basename="job")

urlpatterns = [
    path("generate", JobViewSet.as_view({"post": "generate"}), name="job-generate"),
    path("generate/", JobViewSet.as_view({"post": "generate"})),
    path("ws-ticket", WsTicketView.as_view(), name="ws-ticket"),
    path("ws-ticket/", WsTicketView.as_view()),
    path("webhook", ProviderWebhookView.as_view(provider="runway"), name="webhook"),
    path("webhook/", ProviderWebhookView.as_view(provider="runway")),
    *router.urls,
]
