"""``manage.py generate_video IMAGE``: one job through the real pipeline, in this process."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from assets.clients import get_client_model, is_member, parse_client_key
from assets.users import user_by_natural_key, user_get_or_create
from image_to_video import dispatch, services
from image_to_video.engine import OUTPUT_FORMATS, EngineError, MotionParams, probe_image
from image_to_video.engine.cli import add_move_arguments, move_fields
from image_to_video.fields import EXTENSIONS
from image_to_video.models import Job, JobStatus

DEMO_CLIENT, DEMO_USER = "Demo", "demo"


class Command(BaseCommand):
    help = "Turn IMAGE into a video through the job pipeline (in-process) and file it as an asset."

    def add_arguments(self, parser):
        parser.add_argument("image")
        add_move_arguments(parser)
        parser.add_argument("--output-format", default="mp4", choices=OUTPUT_FORMATS)
        parser.add_argument("--client", default=None, help="client id (default: the 'Demo' client)")
        parser.add_argument("--user", default=None, help="the user by USERNAME_FIELD (default: 'demo')")

    def handle(self, *args, **opts):
        try:
            params = MotionParams(output_format=opts["output_format"], **move_fields(opts)).validate()
            path = Path(opts["image"])
            data = path.read_bytes()
            info = probe_image(data)
        except (EngineError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        user, client = self._owner(opts["user"], opts["client"])
        source = services.SourceImage(
            data=data,
            content_type=info.content_type,
            extension=EXTENSIONS[info.format],
        )

        with tqdm(total=100, unit="%", file=sys.stderr, desc="rendering") as bar:

            def progress(fraction: float) -> None:
                bar.update(int(fraction * 100) - bar.n)

            # inline(): the job's task, then its asset task, run here on commit instead of in a queue.
            with dispatch.inline(progress=progress):
                job, _ = services.job_create(user=user, client=client, params=params, source=source, provider="local")
            bar.update(100 - bar.n)

        job = Job.objects.select_related("asset").get(pk=job.pk)
        asset = getattr(job, "asset", None)
        path_out = None
        if asset is not None:
            try:
                path_out = asset.file.path
            except NotImplementedError:  # S3: no local path; give the key
                path_out = asset.file.name
        self.stdout.write(
            json.dumps(
                {
                    "jobId": str(job.pk),
                    "assetId": str(asset.pk) if asset else None,
                    "status": job.status,
                    "path": path_out,
                    "framing": job.framing,
                }
            )
        )
        if job.status != JobStatus.COMPLETED or asset is None:
            message = job.error_message or "the asset could not be stored (see the log); run reconcile_assets"
            raise CommandError(f"job {job.pk} {job.status}: {message}")

    def _owner(self, username, client_id):
        """The job's user and client: given ones must already belong together; defaults are the demo pair
        (with the bundled tenancy app; with a host's own tenant model, --client and --user are needed)."""
        if client_id:
            key = parse_client_key(client_id)
            client = None if key is None else get_client_model()._default_manager.filter(pk=key).first()
            if client is None:
                raise CommandError(f"no client {client_id}")
            if username is None:
                if not _bundled_tenancy():
                    raise CommandError("pass --user: a member of the client")
                memberships = apps.get_model("tenancy", "Membership").objects.filter(client_id=client.pk)
                membership = memberships.select_related("user").order_by("created_at").first()
                if membership is None:
                    raise CommandError(f"client {client.pk} has no members; pass --user")
                return membership.user, client
            user = user_by_natural_key(username)
            if user is None or not is_member(user, client.pk):
                raise CommandError(f"user {username} is not a member of client {client.pk}")
            return user, client
        if not _bundled_tenancy():
            raise CommandError("pass --client and --user: the demo client needs the bundled tenancy app")
        client, _ = apps.get_model("tenancy", "Client").objects.get_or_create(name=DEMO_CLIENT)
        user, _ = user_get_or_create(username or DEMO_USER)
        apps.get_model("tenancy", "Membership").objects.get_or_create(client=client, user=user)
        return user, client


def _bundled_tenancy() -> bool:
    return apps.is_installed("tenancy") and get_client_model()._meta.label == "tenancy.Client"
