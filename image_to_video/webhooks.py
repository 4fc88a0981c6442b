"""Provider webhooks: verify, store, hand on (completed in the Runway provider work)."""

from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView


class RunwayWebhookView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    def post(self, request):
        return Response({"detail": "Webhooks are not configured (RUNWAY_WEBHOOK_SECRET is not set)."}, status=503)
