"""Schemathesis against the served schema: every operation, a bounded number of generated
requests (valid and invalid ones) as a user who has data. No answer may be a server
error, and every answer must be one the schema documents, in the documented shape."""

import contextlib

import pytest
import schemathesis
from django.contrib.auth.models import Permission
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from orchestrate.models import Instance
from tasks_inbox.models import Task
from tasks_inbox.services.tasks import claim_task
from tests.factories import waiting_workflow
from tests.tasks_inbox.factories import approval_workflow, people, start

pytestmark = pytest.mark.django_db

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@contextlib.contextmanager
def keeping_the_test_connection():
    """Like Django's test client: the request signals must not close the database
    connection that holds the test's transaction."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


# Loaded from the project's WSGI application when the module is collected: the schema
# view needs no database.
with keeping_the_test_connection():
    schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


@pytest.fixture
def world(db, broker):
    """bob (a manager) has a token, tasks in his queue and one he holds, instances he
    started, and may post events. The schema's examples work: `purchase_request` may be
    started, and an instance waits for the message `contract_signed` of vendor V-1001."""
    users = people()
    bob = users["bob"]
    bob.user_permissions.add(Permission.objects.get(codename="add_inboundevent"))
    approval_workflow()
    approval_workflow("purchase_request")
    waiting_workflow("vendor_onboarding", wait_name="contract_signed")
    for _ in range(3):
        start("approval", users["alice"])
    start("approval", bob)
    start("vendor_onboarding", bob, ref="V-1001")
    broker.drain()
    claim_task(Task.objects.filter(status="open").order_by("pk").first().pk, actor=bob)
    return {
        "token": Token.objects.create(user=bob).key,
        "instances": list(Instance.objects.order_by("pk").values_list("pk", flat=True)),
        "tasks": list(Task.objects.order_by("pk").values_list("pk", flat=True)),
    }


def aim_at_real_rows(case, world):
    """Two generated ids in three name a row that exists, so the operations get past
    their 404 and meet real states."""
    if "id" not in (case.path_parameters or {}):
        return
    generated = case.path_parameters["id"]
    if not isinstance(generated, int) or generated % 3 == 0:
        return
    pool = world["tasks"] if case.path.startswith("/api/v1/tasks/") else world["instances"]
    case.path_parameters["id"] = pool[generated % len(pool)]


@schema.parametrize()
@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_documented(case, world):
    aim_at_real_rows(case, world)
    with keeping_the_test_connection():
        case.call_and_validate(headers={"Authorization": f"Token {world['token']}"}, checks=CHECKS)
