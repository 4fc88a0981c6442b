from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("control/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("host-api/", include("things.urls")),
    path("video/api/", include("image_to_video.urls")),  # ADOPT
    path("video/library/", include("assets.urls")),  # ADOPT
    path("studio/", include("image_to_video.page_urls")),  # ADOPT
    *static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT),  # the platform's public media
]
