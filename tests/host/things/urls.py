from django.urls import path

from .views import ThingList

urlpatterns = [path("things/", ThingList.as_view())]
