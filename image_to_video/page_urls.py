"""The page, mounted wherever the host likes: ``path("<prefix>/", include("image_to_video.page_urls"))``."""

from django.urls import path

from .views import index

app_name = "image_to_video_page"

urlpatterns = [path("", index, name="index")]
