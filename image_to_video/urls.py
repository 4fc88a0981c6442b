"""The jobs API, mounted wherever the host likes: ``path("<prefix>/", include("image_to_video.urls"))``.

Routes are written without a trailing slash and accept one (one pattern each, so
the schema has no twins); names live in the ``image_to_video`` namespace.
"""

from django.urls import re_path
from rest_framework.routers import SimpleRouter

from .api import BatchView, JobViewSet, PlanView, WebhookSecretView, WsTicketView, generate_view
from .webhooks import ProviderWebhookView

app_name = "image_to_video"

router = SimpleRouter()
router.trailing_slash = "/?"
router.register("jobs", JobViewSet, basename="job")

urlpatterns = [
    re_path(r"^generate/?$", generate_view, name="job-generate"),
    re_path(r"^generate/variants/?$", JobViewSet.as_view({"post": "variants"}), name="job-variants"),
    re_path(r"^plan/?$", PlanView.as_view(), name="job-plan"),
    re_path(r"^batches/(?P<batchId>[^/]+)/?$", BatchView.as_view(), name="batch"),
    re_path(
        r"^clients/(?P<clientId>[^/]+)/webhook-secret/?$", WebhookSecretView.as_view(), name="client-webhook-secret"
    ),
    re_path(r"^ws-ticket/?$", WsTicketView.as_view(), name="ws-ticket"),
    re_path(r"^webhook/?$", ProviderWebhookView.as_view(provider="runway"), name="webhook"),
    *router.urls,
]
