"""The cost of the busiest actions, pinned: a regression shows as a changed count.
Deciding a task runs the engine in the same transaction, so its count covers the lock,
the rules, the task, the conversation, the audit and the walk to the end."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tasks_inbox.models import Task
from tasks_inbox.services.tasks import claim_task, complete_task
from tests.tasks_inbox.factories import approval_workflow, people, start

pytestmark = pytest.mark.django_db


@pytest.fixture
def task(broker):
    users = people()
    approval_workflow()
    start("approval", users["alice"])
    return Task.objects.get(), users


def test_claim_query_count(task):
    task, users = task
    with CaptureQueriesContext(connection) as queries:
        claim_task(task.pk, actor=users["bob"])
    assert len(queries) == CLAIM_QUERIES, len(queries)


def test_approve_query_count(task):
    task, users = task
    claim_task(task.pk, actor=users["bob"])
    with CaptureQueriesContext(connection) as queries:
        complete_task(task.pk, actor=users["bob"], outcome="approve", comment="ok")
    assert len(queries) == APPROVE_QUERIES, len(queries)


# Each count includes one lookup of the instance's latest audit hash (the chain's link).
CLAIM_QUERIES = 13
APPROVE_QUERIES = 18  # includes skipping the task's pending timers
