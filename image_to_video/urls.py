from django.urls import path
from rest_framework.routers import SimpleRouter

from .api import BatchView, JobViewSet, WebhookSecretView, WsTicketView, generate_view
from .webhooks import ProviderWebhookView

router = SimpleRouter()
router.trailing_slash = "/?"  # the contract's routes have no slash; accept both
router.register("jobs", JobViewSet, basename="job")

urlpatterns = [
    path("generate", generate_view, name="job-generate"),
    path("generate/", generate_view),
    path("generate/variants", JobViewSet.as_view({"post": "variants"}), name="job-variants"),
    path("generate/variants/", JobViewSet.as_view({"post": "variants"})),
    path("batches/<str:batchId>", BatchView.as_view(), name="batch"),
    path("batches/<str:batchId>/", BatchView.as_view()),
    path("clients/<str:clientId>/webhook-secret", WebhookSecretView.as_view(), name="client-webhook-secret"),
    path("clients/<str:clientId>/webhook-secret/", WebhookSecretView.as_view()),
    path("ws-ticket", WsTicketView.as_view(), name="ws-ticket"),
    path("ws-ticket/", WsTicketView.as_view()),
    path("webhook", ProviderWebhookView.as_view(provider="runway"), name="webhook"),
    path("webhook/", ProviderWebhookView.as_view(provider="runway")),
    *router.urls,
]
