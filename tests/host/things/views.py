"""The platform's own API, on its own REST_FRAMEWORK defaults: installing the apps must change nothing here."""

from rest_framework.response import Response
from rest_framework.views import APIView


class ThingList(APIView):
    def get(self, request):
        return Response([{"thing": n} for n in range(3)])
