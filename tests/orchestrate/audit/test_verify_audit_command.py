"""`manage.py verify_audit`: a count on success, the broken event and exit code 1 otherwise."""

from io import StringIO

import pytest
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError

from orchestrate.models import AuditEvent
from tests.orchestrate.audit.support import tamper
from tests.tasks_inbox.factories import start

pytestmark = pytest.mark.django_db


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("verify_audit", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_intact_chains_are_counted(instance, users):
    start("approval", users["alice"])
    out, _ = run()
    assert out.strip() == f"2 chains, {AuditEvent.objects.count()} events verified"


def test_one_instance(instance, users):
    start("approval", users["alice"])
    n = AuditEvent.objects.filter(instance=instance).count()
    out, _ = run("--instance", str(instance.pk))
    assert out.strip() == f"1 chain, {n} events verified"


def test_an_unknown_instance_is_an_error(db):
    with pytest.raises(CommandError, match="instance 999 has no audit events"):
        run("--instance", "999")


def test_a_tampered_event_is_named_and_the_exit_code_is_1(instance, note, capsys):
    edited = note(n=1)
    tamper("UPDATE {table} SET kind = 'task.completed' WHERE id = %s", edited.pk)
    with pytest.raises(CommandError) as raised:
        run()
    assert raised.value.returncode == 1
    assert "1 of 1 chains broken" in str(raised.value)
    with pytest.raises(SystemExit) as exited:
        call_command_from_cli()
    assert exited.value.code == 1
    assert (
        f"instance {instance.pk}: event {edited.pk}: hash does not match its content"
        in capsys.readouterr().err
    )


def call_command_from_cli():
    ManagementUtility(["manage.py", "verify_audit"]).execute()
