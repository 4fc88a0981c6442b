"""After assets.0004: ``asset.job`` is the reverse of Job.asset (state only)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("image_to_video", "0002_job_asset"),
        ("assets", "0004_remove_asset_job"),
    ]

    operations = [
        migrations.AlterField(
            model_name="job",
            name="asset",
            field=models.OneToOneField(
                blank=True,
                help_text="The video filed in the asset library (one per job: the asset's origin is unique).",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="job",
                to="assets.asset",
            ),
        ),
    ]
