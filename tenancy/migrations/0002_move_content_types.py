"""Content types (and so permissions and admin history) follow the models from ``airwave`` to ``tenancy``."""

from django.db import migrations


def move(apps, schema_editor, old="airwave", new="tenancy"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in ("client", "membership"):
        if not ContentType.objects.filter(app_label=new, model=model).exists():
            ContentType.objects.filter(app_label=old, model=model).update(app_label=new)


def move_back(apps, schema_editor):
    move(apps, schema_editor, old="tenancy", new="airwave")


class Migration(migrations.Migration):
    dependencies = [
        ("tenancy", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(move, move_back)]
