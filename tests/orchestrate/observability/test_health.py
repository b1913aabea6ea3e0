"""`/healthz` and `manage.py worker_health`."""

import pytest
from django.core.management import CommandError, call_command

from orchestrate.celery import app as celery_app
from orchestrate.observability import health

pytestmark = pytest.mark.django_db

UNREACHABLE_BROKER = "redis://127.0.0.1:1/0"


@pytest.fixture
def broker_down(monkeypatch):
    """Nothing listens where the app's broker URL points. Celery reads the environment
    variable before its configuration, so CI's CELERY_BROKER_URL is replaced too."""
    monkeypatch.setenv("CELERY_BROKER_URL", UNREACHABLE_BROKER)
    monkeypatch.setattr(celery_app.conf, "broker_url", UNREACHABLE_BROKER)


def test_healthz_is_ok_when_the_database_and_broker_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": {"ok": True}, "broker": {"ok": True}},
    }
    # No authentication and no session.
    assert "sessionid" not in response.cookies


def test_healthz_is_503_when_the_broker_is_down(client, broker_down):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["broker"]["error"]


def test_healthz_is_503_when_the_database_fails(client, monkeypatch):
    monkeypatch.setattr(health, "check_database", lambda: "OperationalError")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {"ok": False, "error": "OperationalError"}


def test_worker_health_fails_when_the_broker_cannot_be_reached(broker_down):
    with pytest.raises(CommandError, match="The broker cannot be reached") as error:
        call_command("worker_health", "--timeout", "0.5")
    assert error.value.returncode == 1


def test_worker_health_fails_when_no_worker_answers(monkeypatch):
    monkeypatch.setattr(celery_app.control, "ping", lambda timeout: [])
    with pytest.raises(CommandError, match=r"No worker answered within 0\.5 s") as error:
        call_command("worker_health", "--timeout", "0.5")
    assert error.value.returncode == 1


def test_worker_health_names_the_workers_that_answered(monkeypatch, capsys):
    replies = [{"w2@host": {"ok": "pong"}}, {"w1@host": {"ok": "pong"}}]
    monkeypatch.setattr(celery_app.control, "ping", lambda timeout: replies)
    call_command("worker_health")
    assert "2 worker(s) answered: w1@host, w2@host" in capsys.readouterr().out
