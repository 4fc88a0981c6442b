"""Step 2 of 3: each job links to its asset, and each filed asset records the job as its origin."""

import django.db.models.deletion
from django.db import migrations, models


def link(apps, schema_editor):
    Asset = apps.get_model("assets", "Asset")
    Job = apps.get_model("image_to_video", "Job")
    for asset_id, job_id in Asset.objects.exclude(job=None).values_list("pk", "job_id"):
        Asset.objects.filter(pk=asset_id).update(origin=f"image_to_video.job:{job_id}")
        Job.objects.filter(pk=job_id).update(asset_id=asset_id)


def unlink(apps, schema_editor):
    Asset = apps.get_model("assets", "Asset")
    Job = apps.get_model("image_to_video", "Job")
    for job_id, asset_id in Job.objects.exclude(asset=None).values_list("pk", "asset_id"):
        Asset.objects.filter(pk=asset_id).update(job_id=job_id)


class Migration(migrations.Migration):
    dependencies = [
        ("image_to_video", "0001_initial"),
        ("assets", "0003_asset_origin"),
    ]

    operations = [
        migrations.AddField(
            model_name="job",
            name="asset",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="assets.asset",
            ),
        ),
        migrations.RunPython(link, unlink),
    ]
