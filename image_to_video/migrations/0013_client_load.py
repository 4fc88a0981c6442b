import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def count_loads(apps, schema_editor):
    """Every client with queued or running jobs gets its load row, counted from the jobs as they are."""
    Job = apps.get_model("image_to_video", "Job")
    ClientLoad = apps.get_model("image_to_video", "ClientLoad")
    totals = (
        Job.objects.filter(status__in=("queued", "processing"))
        .values("client_id")
        .annotate(
            running=models.Count("pk", filter=models.Q(status="processing")),
            queued=models.Count("pk", filter=models.Q(status="queued")),
            oldest=models.Min("created_at", filter=models.Q(status="queued")),
        )
    )
    ClientLoad.objects.bulk_create(
        [
            ClientLoad(client_id=t["client_id"], running=t["running"], queued=t["queued"], oldest_queued=t["oldest"])
            for t in totals
        ],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("image_to_video", "0012_job_loop_codec_blur"),
        migrations.swappable_dependency(settings.AIRWAVE_CLIENT_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ClientLoad",
            fields=[
                (
                    "client",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="image_to_video_load",
                        serialize=False,
                        to=settings.AIRWAVE_CLIENT_MODEL,
                        db_constraint=False,
                    ),
                ),
                ("running", models.IntegerField(default=0)),
                ("queued", models.IntegerField(default=0)),
                ("oldest_queued", models.DateTimeField(blank=True, null=True)),
            ],
            options={
                "indexes": [
                    models.Index(
                        condition=models.Q(("queued__gt", 0)),
                        fields=["running", "oldest_queued"],
                        name="i2v_load_waiting",
                    )
                ],
            },
        ),
        migrations.AddIndex(
            model_name="job",
            index=models.Index(
                condition=models.Q(("status", "queued")), fields=["client", "created_at"], name="i2v_job_queued"
            ),
        ),
        migrations.AddIndex(
            model_name="job",
            index=models.Index(
                condition=models.Q(("status", "processing")), fields=["client"], name="i2v_job_running"
            ),
        ),
        migrations.RunPython(count_loads, migrations.RunPython.noop),
    ]
