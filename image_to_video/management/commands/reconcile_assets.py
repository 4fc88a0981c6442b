import json

from django.core.management.base import BaseCommand

from image_to_video.filing import assets_reconcile


class Command(BaseCommand):
    help = "Create the missing asset of every completed job whose asset creation failed (idempotent)."

    def handle(self, *args, **options):
        self.stdout.write(json.dumps({"created": assets_reconcile()}))
