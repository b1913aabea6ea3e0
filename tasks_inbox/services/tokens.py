"""A person's own API token (DRF's `Token`, one per user): create or regenerate it, and
revoke it. The key is shown once, by the page that made it; it is not stored anywhere
else and never written to the log."""

import logging

from django.contrib.auth import get_user_model
from django.db import transaction
from rest_framework.authtoken.models import Token

logger = logging.getLogger("tasks_inbox.tokens")


def token_of(user):
    """The user's token, or None."""
    return Token.objects.filter(user=user).first()


def issue_token(*, actor):
    """Give the actor a new token, replacing the one they had: the old key stops working
    at once. Locks the user row, so two clicks at once leave exactly one token."""
    with transaction.atomic():
        get_user_model().objects.select_for_update().filter(pk=actor.pk).first()
        replaced, _ = Token.objects.filter(user=actor).delete()
        token = Token.objects.create(user=actor)
    logger.info("API token %s for %s", "regenerated" if replaced else "created", actor)
    return token


def revoke_token(*, actor):
    """Delete the actor's token (its key stops working at once); True if there was one."""
    deleted, _ = Token.objects.filter(user=actor).delete()
    if deleted:
        logger.info("API token revoked for %s", actor)
    return bool(deleted)
