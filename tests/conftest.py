import pytest

import tests.actions  # noqa: F401  (registers the test actions)
from tests.harness import broker  # noqa: F401

# Hooks that turn skips into failures when REQUIRE_SERVICES=1 (see the module).
from tests.require_services import (  # noqa: F401
    pytest_make_collect_report,
    pytest_runtest_makereport,
)


@pytest.fixture(autouse=True)
def _email_backend(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # Test users are made by the dozen; a slow hasher would dominate the suite.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_graph_cache():
    # Test transactions roll back, so ids come back; compiled graphs must not leak.
    from orchestrate.engine.graph import clear_graph_cache

    clear_graph_cache()
