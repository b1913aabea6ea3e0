"""Fixtures of the task API tests: the inbox's people, a four-eyes approval task and
clients for each person."""

import pytest
from rest_framework.test import APIClient

from tasks_inbox.models import Task
from tests.tasks_inbox.factories import approval_workflow, start


@pytest.fixture
def api(users):
    """`api("bob")`: a client authenticated as that person."""

    def client_for(name):
        client = APIClient()
        client.force_authenticate(users[name])
        return client

    return client_for


@pytest.fixture
def task(users):
    """alice asks for a laptop; the managers (bob, carol) decide, never alice herself."""
    approval_workflow()
    start("approval", users["alice"])
    return Task.objects.get()
