"""A database made before the apps became a library migrates forward with every row and link kept."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [
    ("tenancy", "0003_client_webhooks"),
    ("assets", "0005_video_facts_poster"),
    ("image_to_video", "0006_integrations"),
]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_an_old_database_keeps_its_clients_jobs_assets_deliveries_and_webhook_defaults(django_user_model):
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    old = _migrate(BEFORE)
    user = old.get_model("auth", "User").objects.create(username="old-timer")
    Client = old.get_model("tenancy", "Client")
    acme = Client.objects.create(
        name="Acme",
        webhook_url="https://hooks.example.com/acme",
        webhook_events=["job.completed"],
        webhook_secret="whsec_b2xkIHNlY3JldA==",
    )
    quiet = Client.objects.create(name="Quiet")
    old.get_model("tenancy", "Membership").objects.create(client=acme, user=user)
    asset = old.get_model("assets", "Asset").objects.create(
        client=acme, user=user, file="videos/a.mp4", name="a", content_type="video/mp4", size=1
    )
    job = old.get_model("image_to_video", "Job").objects.create(
        id=uuid.uuid4(),
        client=acme,
        user=user,
        motion_type="zoom",
        motion_direction="in",
        motion_strength=50,
        duration=1,
        output_format="mp4",
        width=160,
        height=96,
        status="completed",
        asset=asset,
    )
    old.get_model("image_to_video", "WebhookDelivery").objects.create(
        webhook_id="msg_1",
        client=acme,
        job=job,
        event="job.completed",
        url="https://hooks.example.com/acme",
        payload={"type": "job.completed"},
    )

    _migrate(latest)

    from assets.clients import clients_of
    from assets.models import Asset
    from image_to_video.models import ClientWebhookSettings, Job, WebhookDelivery
    from image_to_video.services.outbound import client_signing_secret

    kept = Job.objects.select_related("client", "asset").get(pk=job.pk)
    assert kept.client.name == "Acme" and kept.asset.pk == asset.pk
    assert Asset.objects.get(pk=asset.pk).client_id == acme.pk
    assert WebhookDelivery.objects.get(webhook_id="msg_1").client_id == acme.pk
    defaults = ClientWebhookSettings.objects.get(client_id=acme.pk)
    assert defaults.webhook_url == "https://hooks.example.com/acme" and defaults.webhook_events == ["job.completed"]
    assert client_signing_secret(acme.pk) == "whsec_b2xkIHNlY3JldA=="  # deliveries still verify
    assert not ClientWebhookSettings.objects.filter(client_id=quiet.pk).exists()
    assert [c.pk for c in clients_of(django_user_model.objects.get(pk=user.pk))] == [acme.pk]


@pytest.mark.django_db
def test_the_models_and_their_migrations_agree():
    """A model changed without its migration would migrate a host to a schema the code does not expect."""
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("makemigrations", "tenancy", "assets", "image_to_video", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()
