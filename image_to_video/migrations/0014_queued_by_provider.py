from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("image_to_video", "0013_client_load")]

    operations = [
        migrations.AddIndex(
            model_name="job",
            index=models.Index(
                condition=models.Q(("status", "queued")), fields=["provider", "created_at"], name="i2v_job_queued_kind"
            ),
        ),
    ]
