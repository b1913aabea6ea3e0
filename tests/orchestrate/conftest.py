"""Fixtures shared by the engine-side tests."""

import pytest

from tests.factories import UserFactory


@pytest.fixture
def root_client(client):
    """A browser logged in to the admin as the superuser `root`."""
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client
