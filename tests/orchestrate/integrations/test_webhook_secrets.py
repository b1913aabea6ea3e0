"""Webhook secrets are stored encrypted (Fernet, keys from ORCHESTRATE_SECRETS_KEYS or
derived from SECRET_KEY): the database holds no plain secret, signing still works, keys
rotate, and a secret no key opens is a clear error."""

import importlib

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.core.management import call_command
from django.db import connection

from orchestrate import secret_box
from orchestrate.models import WebhookSubscription

from .conftest import SECRET

pytestmark = pytest.mark.django_db

MIGRATION = importlib.import_module("orchestrate.migrations.0012_webhook_secret_encrypted")


def stored(subscription):
    """The secret column as the database holds it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT secret FROM orchestrate_webhooksubscription WHERE id = %s", [subscription.pk]
        )
        return cursor.fetchone()[0]


def subscription_with(secret=SECRET):
    return WebhookSubscription.objects.create(
        name="ERP", url="https://erp.example.com/hooks", secret=secret, event_types=[]
    )


def test_the_database_holds_the_secret_encrypted():
    subscription = subscription_with()
    column = stored(subscription)
    assert column.startswith("enc:v1:") and SECRET not in column
    assert WebhookSubscription.objects.get().signing_secret() == SECRET.encode()
    # Saving again keeps it as it is (no double encryption).
    subscription.name = "ERP 2"
    subscription.save()
    assert stored(subscription) == column


def test_a_different_secret_key_cannot_read_it(settings):
    subscription = subscription_with()
    settings.SECRET_KEY = "another-secret-key-" + "x" * 40
    with pytest.raises(secret_box.SecretUnreadable, match="cannot be decrypted"):
        WebhookSubscription.objects.get(pk=subscription.pk).signing_secret()


def test_keys_rotate_without_losing_a_secret(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.ORCHESTRATE_SECRETS_KEYS = [old]
    subscription = subscription_with()
    settings.ORCHESTRATE_SECRETS_KEYS = [new, old]
    assert WebhookSubscription.objects.get().signing_secret() == SECRET.encode()

    call_command("rotate_secrets")

    settings.ORCHESTRATE_SECRETS_KEYS = [new]
    assert WebhookSubscription.objects.get().signing_secret() == SECRET.encode()
    assert SECRET not in stored(subscription)


def test_a_wrong_key_setting_is_a_clear_configuration_error(settings):
    settings.ORCHESTRATE_SECRETS_KEYS = ["not-a-fernet-key"]
    with pytest.raises(Exception, match="ORCHESTRATE_SECRETS_KEYS must hold Fernet keys"):
        subscription_with()


def test_the_migration_encrypts_secrets_stored_in_plain_text():
    subscription = subscription_with()
    WebhookSubscription.objects.filter(pk=subscription.pk).update(secret=SECRET)
    assert stored(subscription) == SECRET

    MIGRATION.encrypt_plain_secrets(apps, None)

    assert stored(subscription).startswith("enc:v1:")
    assert WebhookSubscription.objects.get().signing_secret() == SECRET.encode()
