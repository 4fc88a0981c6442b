from django.urls import path
from rest_framework.routers import SimpleRouter

from .api import JobViewSet
from .webhooks import RunwayWebhookView

router = SimpleRouter()
router.trailing_slash = "/?"  # the contract's routes have no slash; accept both
router.register("jobs", JobViewSet, basename="job")

urlpatterns = [
    path("generate", JobViewSet.as_view({"post": "generate"}), name="job-generate"),
    path("generate/", JobViewSet.as_view({"post": "generate"})),
    path("webhook", RunwayWebhookView.as_view(), name="webhook"),
    path("webhook/", RunwayWebhookView.as_view()),
    *router.urls,
]
