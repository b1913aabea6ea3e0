"""The token services: one token per person, a new key on each issue, revoke."""

import logging

import pytest
from rest_framework.authtoken.models import Token

from tasks_inbox.services.tokens import issue_token, revoke_token, token_of

pytestmark = pytest.mark.django_db


def test_issue_gives_a_token_and_a_second_issue_replaces_it(users, caplog):
    caplog.set_level(logging.INFO, logger="tasks_inbox.tokens")
    first = issue_token(actor=users["bob"])
    second = issue_token(actor=users["bob"])
    assert first.key != second.key
    assert list(Token.objects.filter(user=users["bob"])) == [second]
    assert token_of(users["bob"]) == second
    assert [r.getMessage() for r in caplog.records] == [
        "API token created for bob",
        "API token regenerated for bob",
    ]
    # The key never reaches the log.
    assert second.key not in caplog.text and first.key not in caplog.text


def test_revoke_deletes_only_the_actors_token(users):
    issue_token(actor=users["bob"])
    carols = issue_token(actor=users["carol"])
    assert revoke_token(actor=users["bob"]) is True
    assert revoke_token(actor=users["bob"]) is False
    assert token_of(users["bob"]) is None
    assert token_of(users["carol"]) == carols
