import pytest

from orchestrate.models import AuditEvent, AuditKind
from tests.tasks_inbox.factories import approval_workflow, people, start


@pytest.fixture
def users():
    return people()


@pytest.fixture
def instance(broker, users):
    """An approval request waiting on its review task: a few events already chained."""
    approval_workflow()
    return start("approval", users["alice"])


@pytest.fixture
def note(instance):
    def write(**data):
        return AuditEvent.objects.create(
            instance=instance, kind=AuditKind.TASK_COMMENTED, actor_label="test", data=data
        )

    return write
