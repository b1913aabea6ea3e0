"""factory_boy factories and a helper that turns a workflow-format dict into rows."""

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from orchestrate.models import (
    Step,
    Transition,
    VersionStatus,
    WorkflowDefinition,
    WorkflowVersion,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("secret-pass-123")


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"group{n}")


class DefinitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkflowDefinition
        django_get_or_create = ("key",)

    key = factory.Sequence(lambda n: f"wf_{n}")
    name = factory.LazyAttribute(lambda d: d.key.replace("_", " ").title())


class VersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkflowVersion

    definition = factory.SubFactory(DefinitionFactory)
    number = factory.Sequence(lambda n: n + 1)
    name = factory.LazyAttribute(lambda v: v.definition.name)
    status = VersionStatus.PUBLISHED
    published_at = factory.LazyFunction(timezone.now)


def version_from_spec(spec, *, status=VersionStatus.PUBLISHED):
    """Rows for a workflow-format dict (no validation: tests give valid specs)."""
    definition, _ = WorkflowDefinition.objects.get_or_create(
        key=spec["key"], defaults={"name": spec.get("name", spec["key"])}
    )
    number = (
        definition.versions.order_by("-number").values_list("number", flat=True).first() or 0
    ) + 1
    version = WorkflowVersion.objects.create(
        definition=definition,
        number=number,
        name=spec.get("name", spec["key"]),
        variables=spec.get("variables") or {},
        status=status,
        published_at=timezone.now() if status != VersionStatus.DRAFT else None,
    )
    for i, step in enumerate(spec["steps"]):
        config = {k: v for k, v in step.items() if k not in ("key", "type", "name")}
        Step.objects.create(
            version=version,
            position=i,
            key=step["key"],
            type=step["type"],
            name=step.get("name", ""),
            config=config,
        )
    for i, t in enumerate(spec["transitions"]):
        Transition.objects.create(
            version=version,
            position=i,
            from_step=t["from"],
            to_step=t["to"],
            when=t.get("when", ""),
            on=t.get("on", ""),
            is_default=t.get("default", False),
            name=t.get("name", ""),
        )
    return version


def workflow(key, steps, transitions, **extra):
    """A published workflow from compact step and transition lists."""
    spec = {"format": 1, "key": key, "name": key, "steps": steps, "transitions": transitions}
    spec.update(extra)
    return version_from_spec(spec)


def edges(*pairs):
    """Transitions from "a>b" strings (plain), "a>b:outcome" (`on: outcome`) or dicts."""
    out = []
    for pair in pairs:
        if isinstance(pair, dict):
            out.append(pair)
        else:
            source, target = pair.split(">")
            target, _, outcome = target.partition(":")
            edge = {"from": source, "to": target}
            if outcome:
                edge["on"] = outcome
            out.append(edge)
    return out


def waiting_workflow(key="waiting", *, wait_name="go", **variables):
    """start → a message step `wait` (correlated on `ref`) → end: an instance that stays."""
    return workflow(
        key,
        [
            {"key": "start", "type": "start"},
            {"key": "wait", "type": "message", "name": wait_name, "correlate": "ref"},
            {"key": "end", "type": "end"},
        ],
        edges("start>wait", "wait>end"),
        variables={"ref": {"type": "string"}, **variables},
    )
