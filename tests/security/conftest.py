"""People and a task for the security tests."""

import pytest

from tasks_inbox.models import Task
from tests.tasks_inbox.factories import approval_workflow, people, start


@pytest.fixture
def users(db):
    """alice (requester), bob and carol (managers), dave (directors), erin."""
    return people()


@pytest.fixture
def task(broker, users):
    """An open task in the managers' queue, requested by alice."""
    approval_workflow()
    start("approval", users["alice"])
    return Task.objects.get()
