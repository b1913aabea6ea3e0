"""Request and response bodies of the REST API, v1.

Input serializers only parse and check shape; the rules of a start (declared variables,
published versions) belong to the services, whose errors the views translate.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from orchestrate.models import AuditEvent, Instance, StepRun

# --- fields ---------------------------------------------------------------------------


def _is_number(value):
    return isinstance(value, int | float) and not isinstance(value, bool)


@extend_schema_field({"type": "number"})
class JSONNumberField(serializers.Field):
    """A JSON number, kept as given (an integer stays an integer); booleans refused."""

    default_error_messages = {"invalid": "Must be a number."}

    def to_internal_value(self, data):
        if not _is_number(data):
            self.fail("invalid")
        return data

    def to_representation(self, value):
        return value


@extend_schema_field({"oneOf": [{"type": "string"}, {"type": "number"}]})
class CorrelationField(serializers.Field):
    """A message's correlation key: a non-empty string or a number (compared as text)."""

    default_error_messages = {
        "invalid": "Must be a string or a number.",
        "blank": "This field may not be blank.",
        "max_length": "Ensure this field has no more than {max_length} characters.",
    }
    max_length = 200

    def to_internal_value(self, data):
        if isinstance(data, str):
            if not data.strip():
                self.fail("blank")
            if len(data) > self.max_length:
                self.fail("max_length", max_length=self.max_length)
            return data
        if _is_number(data):
            return data
        self.fail("invalid")

    def to_representation(self, value):
        return value


# --- instances ------------------------------------------------------------------------


class StepRunSerializer(serializers.ModelSerializer):
    step = serializers.CharField(source="step_key", read_only=True)
    type = serializers.CharField(source="step_type", read_only=True)

    class Meta:
        model = StepRun
        fields = ["id", "step", "type", "status", "due_at", "next_attempt_at", "attempt", "error"]
        read_only_fields = fields


class InstanceSerializer(serializers.ModelSerializer):
    """An instance with its live steps."""

    # Reads the queryset of `views.with_live_step_runs`: definition, version and starter
    # joined, live step runs prefetched into `live_step_runs`.

    workflow = serializers.CharField(source="definition.key", read_only=True)
    version = serializers.IntegerField(source="version.number", read_only=True)
    started_by = serializers.CharField(
        source="started_by.username", read_only=True, allow_null=True
    )
    active_steps = StepRunSerializer(source="live_step_runs", many=True, read_only=True)

    class Meta:
        model = Instance
        fields = [
            "id",
            "workflow",
            "version",
            "status",
            "outcome",
            "business_key",
            "variables",
            "started_at",
            "ended_at",
            "started_by",
            "active_steps",
        ]
        read_only_fields = fields


class StartInstanceSerializer(serializers.Serializer):
    workflow = serializers.CharField(max_length=100, help_text="Key of the workflow.")
    variables = serializers.DictField(
        required=False, default=dict, help_text="Start variables, name: value."
    )
    business_key = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        help_text="Starting twice with the same key returns the first instance.",
    )


class CancelInstanceSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class AuditEventSerializer(serializers.ModelSerializer):
    step = serializers.CharField(source="step_key", read_only=True)
    actor = serializers.CharField(source="actor_label", read_only=True)

    class Meta:
        model = AuditEvent
        fields = ["id", "at", "kind", "step", "actor", "data"]
        read_only_fields = fields


# --- messages -------------------------------------------------------------------------


class DeliverMessageSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    correlation = CorrelationField()
    payload = serializers.DictField(
        required=False, default=dict, help_text="Merged into the variables of the receiver."
    )


class MessageDeliveredSerializer(serializers.Serializer):
    delivered_to = serializers.ListField(
        child=serializers.IntegerField(), help_text="Ids of the instances that received it."
    )
