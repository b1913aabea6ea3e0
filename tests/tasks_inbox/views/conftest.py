"""People, the approval workflow and a logged-in client for the inbox page tests."""

import pytest

from tasks_inbox.models import Task
from tests.tasks_inbox.factories import approval_workflow, start


@pytest.fixture
def approval(users):
    """The approval workflow: one task for the managers (bob, carol), alice excluded."""
    return approval_workflow()


@pytest.fixture
def task(broker, users, approval):
    """An open task in the managers' queue, requested by alice."""
    start("approval", users["alice"])
    return Task.objects.get()


@pytest.fixture
def login(client, users):
    def as_user(name):
        client.force_login(users[name])
        return client

    return as_user


def messages_of(response):
    return [str(m) for m in response.context["messages"]] if response.context else []
