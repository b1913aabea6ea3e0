"""A small, hand-computed history for the report tests (figures worked out in the tests).

Two weeks, Monday 2 March to Sunday 15 March 2026 (UTC), looked at on Monday 16 March at
noon. Rows are made directly with factories (not through the services) so that every
timestamp is the one the expected figures were computed from.

1. purchase v1, Mon 2 09:00, completed 19:00 (10 h), path start, manager, done; manager
   task: bob, wait 2 h, handling 2 h, on time.
2. purchase v1, Tue 3 09:00, completed Wed 09:00 (24 h), path start, manager, director,
   done; manager: bob, wait 4 h, handling 6 h, late, one escalation (and a reminder);
   director: dave, never claimed, waited 14 h, no due time.
3. purchase v1, Mon 9 09:00, completed 11:00 (2 h), path start, manager, done; manager:
   carol, wait 0.5 h, handling 1 h less 0.5 h on hold, late; she asked alice (info task).
4. purchase v1, Tue 10 09:00, running; manager: carol holds it, due Wed 11 09:00:
   breached now.
5. purchase v1, Tue 10 10:00, completed 12:00 (2 h), path start, done: no task at all.
6. expense v1, Wed 4 08:00, incident; review: open in the managers' queue, due 20 March.
7. expense v1, Fri 20 Feb 08:00, completed Thu 5 March 10:00, path start, review, done;
   review: erin, claimed 5 March 08:00, decided 10:00, due 21 Feb: late; an escalation
   fired on 21 Feb (before the range).
8. purchase v1, Wed 11 09:00, cancelled 12:00; manager task cancelled.
9. purchase v1, Thu 12 09:00, completed 21:00 (12 h), path start, manager, manager, done
   (rework); manager twice, bob: wait 1 h, handling 2 h, on time; wait 6 h, handling 2 h,
   decided exactly at its due time: on time.
10. purchase v2, Fri 13 09:00, completed 10:00 (1 h), path start, manager, done; manager:
    carol, wait 0, handling 1 h, on time.
11. expense v1, Sat 14 09:00, running; review: erin holds it, on hold for an answer since
    11:00, due 12:00: not breached (the clock stopped before).
"""

import datetime

import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from orchestrate.models import Instance, InstanceStatus, StepRun, StepRunStatus
from tasks_inbox.models import Task, TaskKind, TaskStatus, TaskTimer, TimerKind, TimerStatus
from tests.factories import DefinitionFactory, UserFactory, VersionFactory, workflow

UTC = datetime.UTC
START = datetime.datetime(2026, 3, 2, tzinfo=UTC)
END = datetime.datetime(2026, 3, 16, tzinfo=UTC)  # exclusive: the range is 2-15 March
NOW = datetime.datetime(2026, 3, 16, 12, tzinfo=UTC)
HOUR = datetime.timedelta(hours=1)


def at(day, hour=0, minute=0, month=3):
    return datetime.datetime(2026, month, day, hour, minute, tzinfo=UTC)


class InstanceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Instance

    definition = factory.SubFactory(DefinitionFactory)
    version = factory.SubFactory(VersionFactory, definition=factory.SelfAttribute("..definition"))
    status = InstanceStatus.COMPLETED
    started_at = factory.LazyFunction(timezone.now)


class StepRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StepRun

    instance = factory.SubFactory(InstanceFactory)
    step_key = "review"
    step_type = "human"
    status = StepRunStatus.COMPLETED


class TaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Task

    step_run = factory.SubFactory(StepRunFactory)
    instance = factory.SelfAttribute("step_run.instance")
    definition = factory.SelfAttribute("instance.definition")
    step_key = factory.SelfAttribute("step_run.step_key")
    kind = TaskKind.DECISION
    status = TaskStatus.COMPLETED
    title = factory.LazyAttribute(lambda t: f"Decide {t.step_key}")


def _workflows():
    human = {"assign": {"group": "managers"}}
    steps = [
        {"key": "start", "type": "start"},
        {"key": "manager", "type": "human", "name": "Manager approval", **human},
        {"key": "director", "type": "human", "name": "Director approval", **human},
        {"key": "done", "type": "end"},
    ]
    edges = [
        {"from": "start", "to": "manager"},
        {"from": "manager", "to": "director"},
        {"from": "director", "to": "done"},
    ]
    purchase_v1 = workflow("purchase", steps, edges, name="Purchase request")
    purchase_v2 = workflow("purchase", steps, edges, name="Purchase request")
    expense = workflow(
        "expense",
        [
            {"key": "start", "type": "start"},
            {"key": "review", "type": "human", "name": "Review", **human},
            {"key": "done", "type": "end"},
        ],
        [{"from": "start", "to": "review"}, {"from": "review", "to": "done"}],
        name="Expense claim",
    )
    purchase_v1.definition.name = "Purchase request"
    purchase_v1.definition.save()
    expense.definition.name = "Expense claim"
    expense.definition.save()
    return purchase_v1, purchase_v2, expense


def _instance(version, started, status=InstanceStatus.COMPLETED, ended=None, path=()):
    instance = InstanceFactory(
        definition=version.definition,
        version=version,
        status=status,
        started_at=started,
        ended_at=ended,
    )
    for n, key in enumerate(path):
        StepRunFactory(
            instance=instance,
            step_key=key,
            step_type="human" if key in ("manager", "director", "review") else key,
            created_at=started + n * datetime.timedelta(minutes=1),
        )
    return instance


def _task(instance, step, *, created, status=TaskStatus.COMPLETED, **fields):
    run = StepRunFactory(
        instance=instance, step_key=step, status=StepRunStatus.WAITING, created_at=created
    )
    return TaskFactory(step_run=run, status=status, created_at=created, **fields)


def build_history():
    """The history of the module docstring; returns the people, groups and some tasks."""
    purchase, purchase_v2, expense = _workflows()
    managers = Group.objects.get_or_create(name="managers")[0]
    directors = Group.objects.get_or_create(name="directors")[0]
    people = {
        name: UserFactory(username=name) for name in ("alice", "bob", "carol", "dave", "erin")
    }
    bob, carol, dave, erin = (people[n] for n in ("bob", "carol", "dave", "erin"))
    mgr = {"candidate_group": managers}

    def decided(by, claimed, completed, **fields):
        return {
            "assignee": by,
            "decided_by": by,
            "claimed_at": claimed,
            "completed_at": completed,
            **fields,
        }

    i1 = _instance(purchase, at(2, 9), ended=at(2, 19), path=("start", "manager", "done"))
    _task(i1, "manager", created=at(2, 9), due_at=at(2, 17), **mgr,
          **decided(bob, at(2, 11), at(2, 13)))  # fmt: skip

    i2 = _instance(
        purchase, at(3, 9), ended=at(4, 9), path=("start", "manager", "director", "done")
    )
    late = _task(i2, "manager", created=at(3, 9), due_at=at(3, 17), **mgr,
                 **decided(bob, at(3, 13), at(3, 19)))  # fmt: skip
    _task(i2, "director", created=at(3, 19), candidate_group=directors,
          **decided(dave, None, at(4, 9)))  # fmt: skip
    TaskTimer.objects.create(task=late, kind=TimerKind.ESCALATION, level=0, due_at=at(3, 15),
                             status=TimerStatus.FIRED, fired_at=at(3, 15))  # fmt: skip
    TaskTimer.objects.create(task=late, kind=TimerKind.REMINDER, level=0, due_at=at(3, 14),
                             status=TimerStatus.FIRED, fired_at=at(3, 14))  # fmt: skip

    i3 = _instance(purchase, at(9, 9), ended=at(9, 11), path=("start", "manager", "done"))
    asked = _task(i3, "manager", created=at(9, 9), due_at=at(9, 10), paused_seconds=1800, **mgr,
                  **decided(carol, at(9, 9, 30), at(9, 10, 30)))  # fmt: skip
    alice = people["alice"]
    TaskFactory(step_run=asked.step_run, kind=TaskKind.INFO, parent=asked,
                created_at=at(9, 9, 45), **decided(alice, None, at(9, 10, 15)))  # fmt: skip

    i4 = _instance(purchase, at(10, 9), status=InstanceStatus.RUNNING)
    breached = _task(i4, "manager", created=at(10, 9), status=TaskStatus.CLAIMED,
                     assignee=carol, claimed_at=at(10, 10), due_at=at(11, 9), **mgr)  # fmt: skip

    _instance(purchase, at(10, 10), ended=at(10, 12), path=("start", "done"))

    i6 = _instance(expense, at(4, 8), status=InstanceStatus.INCIDENT)
    _task(i6, "review", created=at(4, 8), status=TaskStatus.OPEN, due_at=at(20, 8), **mgr)

    i7 = _instance(expense, at(20, 8, month=2), ended=at(5, 10), path=("start", "review", "done"))
    old = _task(i7, "review", created=at(20, 8, month=2), due_at=at(21, 8, month=2), **mgr,
                **decided(erin, at(5, 8), at(5, 10)))  # fmt: skip
    # Fired before the range: not counted.
    TaskTimer.objects.create(task=old, kind=TimerKind.ESCALATION, level=0,
                             due_at=at(21, 8, month=2), status=TimerStatus.FIRED,
                             fired_at=at(21, 8, month=2))  # fmt: skip

    i8 = _instance(purchase, at(11, 9), status=InstanceStatus.CANCELLED, ended=at(11, 12))
    _task(i8, "manager", created=at(11, 9), status=TaskStatus.CANCELLED,
          completed_at=at(11, 12), **mgr)  # fmt: skip

    i9 = _instance(
        purchase, at(12, 9), ended=at(12, 21), path=("start", "manager", "manager", "done")
    )
    _task(i9, "manager", created=at(12, 9), due_at=at(12, 17), **mgr,
          **decided(bob, at(12, 10), at(12, 12)))  # fmt: skip
    _task(i9, "manager", created=at(12, 12), due_at=at(12, 20), **mgr,
          **decided(bob, at(12, 18), at(12, 20)))  # fmt: skip

    i10 = _instance(purchase_v2, at(13, 9), ended=at(13, 10), path=("start", "manager", "done"))
    _task(i10, "manager", created=at(13, 9), due_at=at(13, 12), **mgr,
          **decided(carol, at(13, 9), at(13, 10)))  # fmt: skip

    i11 = _instance(expense, at(14, 9), status=InstanceStatus.RUNNING)
    on_hold = _task(i11, "review", created=at(14, 9), status=TaskStatus.INFO_REQUESTED,
                    assignee=erin, claimed_at=at(14, 10), paused_at=at(14, 11),
                    due_at=at(14, 12), **mgr)  # fmt: skip
    TaskFactory(step_run=on_hold.step_run, kind=TaskKind.INFO, parent=on_hold,
                status=TaskStatus.OPEN, assignee=alice, created_at=at(14, 11))  # fmt: skip
    return {"people": people, "managers": managers, "breached": breached}


def add_instance_no_person_decided():
    """12. purchase v1, Fri 13 09:00, completed 15:00 (6 h), path start, manager, done; one
    manager task completed at 15:00 by an escalation's `complete` action (no person decided
    it), one cancelled. Call after `build_history`."""
    purchase = Instance.objects.filter(definition__key="purchase", version__number=1).first()
    i12 = _instance(
        purchase.version, at(13, 9), ended=at(13, 15), path=("start", "manager", "done")
    )
    _task(i12, "manager", created=at(13, 9), completed_at=at(13, 15))
    _task(i12, "manager", created=at(13, 9), status=TaskStatus.CANCELLED)
    return i12
