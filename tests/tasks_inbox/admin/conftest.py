"""Fixtures of the admin tests: a superuser's browser, the inbox's people and two tasks."""

import pytest
from django.test import Client

from tasks_inbox.models import Task
from tests.factories import UserFactory
from tests.tasks_inbox.factories import approval_workflow, start


@pytest.fixture
def root():
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(root):
    client = Client()
    client.force_login(root)
    return client


@pytest.fixture
def tasks(users):
    """Two approvals of alice's, waiting for the managers."""
    approval_workflow()
    start("approval", users["alice"], item="a laptop")
    start("approval", users["alice"], item="a desk")
    return list(Task.objects.order_by("id"))
