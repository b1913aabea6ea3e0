"""Fixtures shared by the inbox tests."""

import pytest

from tests.tasks_inbox.factories import people


@pytest.fixture(autouse=True)
def _broker(broker):
    """No inbox test may reach a real broker: mails are recorded, `broker.drain()` sends."""
    return broker


@pytest.fixture
def users(db):
    """alice (requester), bob and carol (managers), dave (directors), erin (no group)."""
    return people()
