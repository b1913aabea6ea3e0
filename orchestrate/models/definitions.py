"""Workflow definitions and their versions, steps and transitions.

A version's steps and transitions are rows (so admin can edit a draft with inlines);
`WorkflowVersion.to_spec()` turns them back into the workflow format, which is what the
validator, the exporter and the engine's graph read.
"""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django_fsm import FSMField, transition

KEY_VALIDATOR = RegexValidator(r"^[a-z0-9_-]+$", "Use lowercase letters, digits, '_' and '-' only.")


class StepType(models.TextChoices):
    START = "start"
    END = "end"
    AUTOMATED = "automated"
    HUMAN = "human"
    EXCLUSIVE = "exclusive"
    INCLUSIVE = "inclusive"
    PARALLEL = "parallel"
    JOIN = "join"
    TIMER = "timer"
    MESSAGE = "message"
    SUBPROCESS = "subprocess"


class VersionStatus(models.TextChoices):
    DRAFT = "draft"
    PUBLISHED = "published"
    RETIRED = "retired"


class WorkflowDefinition(models.Model):
    key = models.CharField(max_length=100, unique=True, validators=[KEY_VALIDATOR])
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["key"]
        # Granted per definition with django-guardian (see `orchestrate.access`); editing a
        # definition is Django's own `change_workflowdefinition`, per object too.
        permissions = [
            ("start_workflow", "Can start instances of this workflow"),
            ("view_workflow_instances", "Can see every instance of this workflow"),
        ]

    def __str__(self):
        return f"{self.name} ({self.key})"

    def current_version(self):
        """The published version that new instances start on, or None."""
        return self.versions.filter(status=VersionStatus.PUBLISHED).order_by("-number").first()


class WorkflowVersion(models.Model):
    definition = models.ForeignKey(
        WorkflowDefinition, on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField()
    status = FSMField(default=VersionStatus.DRAFT, choices=VersionStatus.choices)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    variables = models.JSONField(default=dict, blank=True)
    # PostgreSQL's jsonb does not keep key order; the declared order of variables is
    # what people see in start forms, so it is kept here (a list keeps its order).
    variables_order = models.JSONField(default=list, blank=True, editable=False)
    calendar = models.CharField(max_length=100, blank=True)
    # `start_on` of the workflow format: the event type that starts an instance, with the
    # CEL expressions for its business key and variables (empty: events never start it).
    start_on = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        ordering = ["definition__key", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["definition", "number"], name="version_number_unique")
        ]

    def __str__(self):
        return f"{self.definition.key} v{self.number} ({self.status})"

    def save(self, *args, **kwargs):
        self.variables_order = list(self.variables or {})
        if kwargs.get("update_fields") is not None and "variables" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "variables_order"}
        super().save(*args, **kwargs)

    @transition(field=status, source=VersionStatus.DRAFT, target=VersionStatus.PUBLISHED)
    def publish(self):
        """Freeze the draft; new instances start on it."""
        self.published_at = timezone.now()

    @transition(field=status, source=VersionStatus.PUBLISHED, target=VersionStatus.RETIRED)
    def retire(self):
        """No new instance starts on a retired version; running ones go on."""

    def ordered_variables(self):
        """The declared variables in the order of the file they came from."""
        order = [k for k in self.variables_order if k in self.variables]
        order += [k for k in self.variables if k not in order]
        return {k: self.variables[k] for k in order}

    @property
    def is_editable(self):
        return self.status == VersionStatus.DRAFT

    def to_spec(self):
        """The version in the workflow format (a dict), as the exporter writes it."""
        spec = {"format": 1, "key": self.definition.key, "name": self.name}
        if self.description:
            spec["description"] = self.description
        if self.variables:
            spec["variables"] = self.ordered_variables()
        if self.calendar:
            spec["calendar"] = self.calendar
        if self.start_on:
            spec["start_on"] = self.start_on
        spec["steps"] = [s.to_spec() for s in self.steps.order_by("position", "id")]
        spec["transitions"] = [t.to_spec() for t in self.transitions.order_by("position", "id")]
        return spec


class Step(models.Model):
    version = models.ForeignKey(WorkflowVersion, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField(default=0)
    key = models.CharField(max_length=100)
    type = models.CharField(max_length=20, choices=StepType.choices)
    name = models.CharField(max_length=200, blank=True)
    # The type-specific keys of the step exactly as the format names them.
    config = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["version", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["version", "key"], name="step_key_unique")]

    def __str__(self):
        return self.name or self.key

    def to_spec(self):
        spec = {"key": self.key, "type": self.type}
        if self.name:
            spec["name"] = self.name
        spec.update(self.config or {})
        return spec


class Transition(models.Model):
    version = models.ForeignKey(
        WorkflowVersion, on_delete=models.CASCADE, related_name="transitions"
    )
    position = models.PositiveIntegerField(default=0)
    from_step = models.CharField(max_length=100)
    to_step = models.CharField(max_length=100)
    name = models.CharField(max_length=200, blank=True)
    when = models.TextField(blank=True)
    on = models.CharField(max_length=100, blank=True)
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["version", "position", "id"]

    def __str__(self):
        return f"{self.from_step} → {self.to_step}"

    def to_spec(self):
        spec = {"from": self.from_step, "to": self.to_step}
        if self.name:
            spec["name"] = self.name
        if self.when:
            spec["when"] = self.when
        if self.on:
            spec["on"] = self.on
        if self.is_default:
            spec["default"] = True
        return spec
