from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from assets.views import protected_media
from image_to_video.views import admin_job_source, metrics

from . import health

urlpatterns = [
    path("admin/image-to-video/jobs/<uuid:job_id>/source", admin_job_source, name="admin-job-source"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/image-to-video/", include("image_to_video.urls")),
    path("api/", include("assets.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    re_path(r"^media/(?P<path>.+)$", protected_media, name="media"),
    path("", include("image_to_video.page_urls")),
]
