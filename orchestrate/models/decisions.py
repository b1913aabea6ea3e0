"""Decision tables and their versions.

A version holds the table as the format's `kind: decision_table` document names it
(inputs, outputs, rules...); `DecisionTableVersion.to_spec()` gives the document back,
which is what the validator, the exporter and the evaluator read.
"""

from django.db import models
from django.utils import timezone
from django_fsm import FSMField, transition

from .definitions import KEY_VALIDATOR, VersionStatus


class HitPolicy(models.TextChoices):
    UNIQUE = "unique"
    FIRST = "first"
    PRIORITY = "priority"
    COLLECT = "collect"


class Aggregation(models.TextChoices):
    LIST = "list"
    SUM = "sum"
    MIN = "min"
    MAX = "max"
    COUNT = "count"


class DecisionTable(models.Model):
    key = models.CharField(max_length=100, unique=True, validators=[KEY_VALIDATOR])
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["key"]

    def __str__(self):
        return f"{self.name} ({self.key})"

    def current_version(self):
        """The published version that `decide` evaluates, or None."""
        return self.versions.filter(status=VersionStatus.PUBLISHED).order_by("-number").first()


class DecisionTableVersion(models.Model):
    table = models.ForeignKey(DecisionTable, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    status = FSMField(default=VersionStatus.DRAFT, choices=VersionStatus.choices)
    name = models.CharField(max_length=200)
    hit_policy = models.CharField(max_length=20, choices=HitPolicy.choices)
    # Blank unless the hit policy is collect; blank there means `list`.
    aggregation = models.CharField(max_length=20, choices=Aggregation.choices, blank=True)
    inputs = models.JSONField(
        default=list, blank=True, help_text='A list of {"name": ..., "expr": CEL expression}.'
    )
    outputs = models.JSONField(default=list, blank=True, help_text="A list of output names.")
    priorities = models.JSONField(
        default=dict,
        blank=True,
        help_text='Priority only: {"output": [values, best first]}.',
    )
    rules = models.JSONField(
        default=list,
        blank=True,
        help_text='A list of {"when": {"input": "cell"}, "then": {"output": value}}.',
    )
    created_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["table__key", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["table", "number"], name="decision_table_version_number_unique"
            )
        ]

    def __str__(self):
        return f"{self.table.key} v{self.number} ({self.status})"

    @transition(field=status, source=VersionStatus.DRAFT, target=VersionStatus.PUBLISHED)
    def publish(self):
        """Freeze the draft; `decide` evaluates it from now on."""
        self.published_at = timezone.now()

    @transition(field=status, source=VersionStatus.PUBLISHED, target=VersionStatus.RETIRED)
    def retire(self):
        """A retired version is kept for the record and never evaluated."""

    @property
    def is_editable(self):
        return self.status == VersionStatus.DRAFT

    def to_spec(self):
        """The version as a `kind: decision_table` document (a dict)."""
        spec = {
            "format": 1,
            "kind": "decision_table",
            "key": self.table.key,
            "name": self.name,
            "hit_policy": self.hit_policy,
        }
        if self.aggregation:
            spec["aggregation"] = self.aggregation
        spec["inputs"] = list(self.inputs or [])
        spec["outputs"] = list(self.outputs or [])
        if self.priorities:
            spec["priorities"] = self.priorities
        spec["rules"] = list(self.rules or [])
        return spec
