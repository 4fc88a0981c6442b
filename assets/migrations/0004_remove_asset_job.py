"""Step 3 of 3: the job link now lives on the job (Job.asset); the asset keeps its origin."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("assets", "0003_asset_origin"),
        ("image_to_video", "0002_job_asset"),
    ]

    operations = [
        migrations.RemoveField(model_name="asset", name="job"),
    ]
