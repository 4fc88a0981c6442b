"""The library no longer points at jobs: an asset records its ``origin`` (unique) instead.

Step 1 of 3 (then image_to_video.0002 copies the links, 0004 drops ``job``).
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("assets", "0002_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="asset",
            name="origin",
            field=models.CharField(
                blank=True,
                help_text="What the asset was made from, e.g. 'image_to_video.job:<id>': one asset per origin.",
                max_length=200,
                null=True,
                unique=True,
            ),
        ),
        migrations.AlterField(  # state only: frees the name Job.asset for the link kept on the job's side
            model_name="asset",
            name="job",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="image_to_video.job",
            ),
        ),
    ]
