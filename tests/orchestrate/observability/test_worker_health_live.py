"""`manage.py worker_health` against a real worker (PostgreSQL and Redis, as in CI)."""

import pytest
from django.core.management import CommandError, call_command

# The integration tests' fixture that runs real Celery processes.
from tests.integration.conftest import cluster  # noqa: F401

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_worker_health_follows_a_real_worker(cluster, capsys):  # noqa: F811
    worker = cluster.start_worker("health1", concurrency=1)
    call_command("worker_health", "--timeout", "5")
    assert "1 worker(s) answered: health1@" in capsys.readouterr().out

    cluster.kill(worker)
    with pytest.raises(CommandError, match="No worker answered") as error:
        call_command("worker_health", "--timeout", "1")
    assert error.value.returncode == 1
