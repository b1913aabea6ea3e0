"""Who may use the task API: a task someone may not see is a 404 whatever they try."""

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from orchestrate.models import AuditEvent
from tasks_inbox.models import TaskStatus

pytestmark = pytest.mark.django_db

TASKS = "/api/v1/tasks/"
ACTIONS = ["claim", "release", "complete", "request-info", "delegate"]
BODIES = {
    "complete": {"outcome": "approve"},
    "request-info": {"question": "Why?"},
    "delegate": {"to": "dave"},
}


def test_a_stranger_gets_404_for_the_task(api, task):
    response = api("erin").get(f"{TASKS}{task.pk}/")

    assert response.status_code == 404
    assert response.json() == {"detail": "No such task."}


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("body", ["valid", "garbage"])
def test_a_stranger_gets_404_for_every_action(api, task, action, body):
    data = BODIES.get(action, {}) if body == "valid" else {"outcome": [1], "to": {}}
    audit_before = AuditEvent.objects.count()

    response = api("erin").post(f"{TASKS}{task.pk}/{action}/", data, format="json")

    assert response.status_code == 404
    assert response.json() == {"detail": "No such task."}
    task.refresh_from_db()
    assert (task.status, task.assignee) == (TaskStatus.OPEN, None)
    assert AuditEvent.objects.count() == audit_before


@pytest.mark.parametrize("action", ["", *(f"{a}/" for a in ACTIONS)])
def test_a_missing_task_is_404(api, task, action):
    client = api("bob")
    url = f"{TASKS}{task.pk + 1000}/{action}"

    response = client.post(url, {}, format="json") if action else client.get(url)

    assert response.status_code == 404


def test_the_initiator_is_excluded_from_her_own_approval(api, task):
    # Four-eyes: alice may not see the task she asked for, so it is a 404 for her too.
    assert api("alice").get(f"{TASKS}{task.pk}/").status_code == 404
    assert api("alice").post(f"{TASKS}{task.pk}/claim/").status_code == 404


def test_someone_who_may_only_view_gets_403_for_actions(api, users, task):
    users["erin"].user_permissions.add(Permission.objects.get(codename="view_task"))
    erin = api("erin")

    detail = erin.get(f"{TASKS}{task.pk}/")
    claim = erin.post(f"{TASKS}{task.pk}/claim/")

    assert detail.status_code == 200
    assert detail.json()["actions"] == ["comment"]
    assert claim.status_code == 403
    assert claim.json() == {"detail": "You may view this task but not act on it."}


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", ""), ("get", "{id}/"), *(("post", f"{{id}}/{a}/") for a in ACTIONS)],
)
def test_anonymous_requests_are_refused(task, method, path):
    response = getattr(APIClient(), method)(TASKS + path.format(id=task.pk), {}, format="json")

    assert response.status_code == 401


def test_token_authentication_works(users, task):
    token = Token.objects.create(user=users["bob"])
    client = APIClient(HTTP_AUTHORIZATION=f"Token {token.key}")

    listed = client.get(TASKS, {"scope": "queue"})
    claimed = client.post(f"{TASKS}{task.pk}/claim/")

    assert [row["id"] for row in listed.json()["results"]] == [task.pk]
    assert claimed.status_code == 200
    assert claimed.json()["assignee"] == "bob"


def test_session_authentication_needs_the_csrf_token(users, task):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(users["bob"])

    assert client.get(f"{TASKS}{task.pk}/").status_code == 200
    assert client.post(f"{TASKS}{task.pk}/claim/").status_code == 403


def test_the_schema_documents_the_task_api(tmp_path):
    schema = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--file", str(schema))

    text = schema.read_text()
    for path in ("/api/v1/tasks/:", "/api/v1/tasks/{id}/:", "/api/v1/tasks/{id}/request-info/:"):
        assert path in text
