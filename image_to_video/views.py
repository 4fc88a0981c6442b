"""The page for people: server-rendered, talks only to the public API and the socket."""

import os

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess

from tenancy.selectors import clients_of

from .engine import DEFAULT_DIRECTION, DIRECTIONS, MOTION_TYPES, OUTPUT_FORMATS
from .metrics import ServiceCollector
from .models import Job
from .providers import PROVIDER_NAMES, provider_unavailable_reason
from .selectors import jobs_waiting_by_client


@login_required
def index(request):
    providers = [p for p in PROVIDER_NAMES if provider_unavailable_reason(p) is None]
    clients = list(clients_of(request.user))
    return render(
        request,
        "image_to_video/index.html",
        {
            "clients": clients,
            "providers": providers,
            "default_provider": settings.IMAGE_TO_VIDEO_PROVIDER,
            "motion_types": MOTION_TYPES,
            "output_formats": OUTPUT_FORMATS,
            "config": {
                "directions": DIRECTIONS,
                "defaults": DEFAULT_DIRECTION,
                "clients": [{"id": str(c.pk), "name": c.name} for c in clients],
            },
        },
    )


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text format: this process's counters (all of this host's with PROMETHEUS_MULTIPROC_DIR),
    and the service-wide gauges read from the database."""
    counted = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        counted = CollectorRegistry()
        multiprocess.MultiProcessCollector(counted)
    service = CollectorRegistry()
    service.register(ServiceCollector(jobs_waiting_by_client))
    body = generate_latest(counted) + generate_latest(service)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)


@staff_member_required
def admin_job_source(request, job_id):
    """The job's source image, for the admin's job page: staff who may view jobs only."""
    if not request.user.has_perm("image_to_video.view_job"):
        raise PermissionDenied
    job = get_object_or_404(Job, pk=job_id)
    if not job.source_image:
        raise Http404
    try:
        return FileResponse(job.source_image.open("rb"), content_type=job.source_content_type or None)
    except FileNotFoundError:
        raise Http404 from None
