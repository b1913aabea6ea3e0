"""`python manage.py rotate_secrets`: encrypt every stored secret again with the first key
of ORCHESTRATE_SECRETS_KEYS (put the new key first, keep the old ones after it, run this,
then the old keys may go)."""

from django.core.management.base import BaseCommand
from django.db import transaction

from orchestrate import secret_box
from orchestrate.models import WebhookSubscription


class Command(BaseCommand):
    help = "Encrypt the stored webhook secrets again with the first ORCHESTRATE_SECRETS_KEYS key."

    def handle(self, *args, **options):
        with transaction.atomic():
            subscriptions = list(WebhookSubscription.objects.select_for_update())
            for subscription in subscriptions:
                subscription.secret = secret_box.reencrypt(subscription.secret)
                subscription.save(update_fields=["secret"])
        self.stdout.write(f"{len(subscriptions)} secret(s) encrypted with the first key.")
