"""Fixtures of the API tests: clients for users, and two small workflows."""

import pytest
from rest_framework.test import APIClient

from tests.factories import UserFactory, edges, workflow


@pytest.fixture(autouse=True)
def _broker(broker):
    """No test here may reach a real broker."""
    return broker


def _client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def client_for():
    """Make a client authenticated as the given user."""
    return _client_for


@pytest.fixture
def alice():
    return UserFactory(username="alice")


@pytest.fixture
def api(alice):
    """A client authenticated as alice, a requester without special permissions."""
    return _client_for(alice)


@pytest.fixture
def order_workflow():
    """start -> wait for message `paid` correlated by `order_id` -> end (`paid`)."""
    return workflow(
        "order",
        [
            {"key": "start", "type": "start"},
            {"key": "wait", "type": "message", "name": "paid", "correlate": "order_id"},
            {"key": "done", "type": "end", "outcome": "paid"},
        ],
        edges("start>wait", "wait>done"),
        variables={"order_id": {"type": "string", "required": True}},
    )


@pytest.fixture
def priced_workflow():
    """A workflow that declares a required number and completes at once."""
    return workflow(
        "priced",
        [{"key": "start", "type": "start"}, {"key": "done", "type": "end"}],
        edges("start>done"),
        variables={
            "amount": {"type": "number", "required": True},
            "currency": {"type": "string", "default": "EUR"},
        },
    )
