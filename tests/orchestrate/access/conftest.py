"""Fixtures of the per-definition permission tests: API clients and a small workflow."""

import pytest
from rest_framework.test import APIClient

from tests.factories import edges, workflow


@pytest.fixture(autouse=True)
def _broker(broker):
    """No test here may reach a real broker."""
    return broker


@pytest.fixture
def client_for():
    """Make an API client authenticated as the given user."""

    def make(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


def _quick_workflow(key):
    return workflow(
        key,
        [{"key": "start", "type": "start"}, {"key": "done", "type": "end"}],
        edges("start>done"),
    )


@pytest.fixture
def purchase_request():
    """A workflow that completes as soon as it starts."""
    return _quick_workflow("purchase_request").definition


@pytest.fixture
def leave_request():
    """Another such workflow, to check that grants stay on their own definition."""
    return _quick_workflow("leave_request").definition
