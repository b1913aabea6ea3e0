"""Request and response bodies of the task API (`/api/v1/tasks/`).

Input serializers check shape and types only; the rules (which outcomes, required
comments, who may be asked or delegated to) belong to `tasks_inbox.services.tasks`,
whose errors the views translate.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from tasks_inbox.models import Priority, SlaState, Task, TaskComment
from tasks_inbox.selectors.tasks import (
    available_actions,
    conversation_for,
)


# --- reading --------------------------------------------------------------------------
class TaskCommentSerializer(serializers.ModelSerializer):
    """One entry of a task's conversation (comment, question, answer or decision)."""

    author = serializers.CharField(source="author_label", read_only=True)
    to = serializers.CharField(
        source="addressee.username",
        read_only=True,
        allow_null=True,
        help_text="Who a question is for.",
    )

    class Meta:
        model = TaskComment
        fields = ["id", "kind", "author", "to", "text", "created_at"]
        read_only_fields = fields


class TaskSerializer(serializers.ModelSerializer):
    """A task as the inbox shows it, with the actions the requesting user may take."""

    # Reads instance.definition, assignee, candidate_group, decided_by and
    # decided_on_behalf_of: the views join them (see `views.LIST_RELATED`).

    workflow = serializers.CharField(
        source="instance.definition.key", read_only=True, help_text="Key of the workflow."
    )
    step = serializers.CharField(source="step_key", read_only=True)
    instance = serializers.IntegerField(source="instance_id", read_only=True)
    assignee = serializers.CharField(source="assignee.username", read_only=True, allow_null=True)
    candidate_group = serializers.CharField(
        source="candidate_group.name", read_only=True, allow_null=True
    )
    priority = serializers.ChoiceField(
        source="priority_name", choices=Priority.labels, read_only=True
    )
    decided_by = serializers.CharField(
        source="decided_by.username", read_only=True, allow_null=True
    )
    decided_on_behalf_of = serializers.CharField(
        source="decided_on_behalf_of.username", read_only=True, allow_null=True
    )
    parent = serializers.IntegerField(
        source="parent_id",
        read_only=True,
        allow_null=True,
        help_text="For an info task: the task whose question it answers.",
    )
    sla_state = serializers.SerializerMethodField(
        help_text="on_track, at_risk (from `at_risk_at`) or breached (from `due_at`); null "
        "without a due time. It stands still while a question waits (`paused`)."
    )
    paused = serializers.SerializerMethodField(
        help_text="The SLA clock is stopped while a question waits for its answer."
    )
    actions = serializers.SerializerMethodField(
        help_text="What you may do now: claim, release, complete, request_info, delegate, comment."
    )

    class Meta:
        model = Task
        fields = [
            "id",
            "kind",
            "title",
            "description",
            "status",
            "workflow",
            "step",
            "instance",
            "assignee",
            "candidate_group",
            "priority",
            "due_at",
            "sla_state",
            "at_risk_at",
            "due_explanation",
            "paused",
            "snoozed_until",
            "created_at",
            "outcomes",
            "comment_required_for",
            "form",
            "outcome",
            "comment",
            "decided_by",
            "decided_on_behalf_of",
            "parent",
            "actions",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=SlaState.values, allow_null=True))
    def get_sla_state(self, task):
        state = task.sla_state()
        return None if state is None else str(state)

    @extend_schema_field(serializers.BooleanField())
    def get_paused(self, task):
        return task.paused_at is not None

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_actions(self, task):
        return sorted(available_actions(self.context["request"].user, task))


class TaskDetailSerializer(TaskSerializer):
    """A task with its conversation (an info task shows the one of its parent)."""

    conversation = serializers.SerializerMethodField()

    class Meta(TaskSerializer.Meta):
        fields = [*TaskSerializer.Meta.fields, "conversation"]
        read_only_fields = fields

    @extend_schema_field(TaskCommentSerializer(many=True))
    def get_conversation(self, task):
        return TaskCommentSerializer(conversation_for(task), many=True).data


# --- query parameters and request bodies ----------------------------------------------
class CompleteTaskSerializer(serializers.Serializer):
    outcome = serializers.CharField(
        max_length=100, allow_blank=True, default="", help_text="One of the task's outcomes."
    )
    comment = serializers.CharField(
        allow_blank=True,
        default="",
        help_text="Required for some outcomes; the answer of an info task.",
    )
    data = serializers.DictField(default=dict, help_text="Values of the step's form fields.")


class RequestInfoSerializer(serializers.Serializer):
    question = serializers.CharField(allow_blank=True)
    to = serializers.CharField(
        max_length=150,
        allow_blank=True,
        allow_null=True,
        default=None,
        help_text="Username of the person to ask; the step's default (often the initiator) "
        "if left out.",
    )


class SnoozeTaskSerializer(serializers.Serializer):
    until = serializers.DateTimeField(
        allow_null=True,
        help_text="Hide the task from your lists until then (in the future); null wakes it.",
    )


class DelegateTaskSerializer(serializers.Serializer):
    to = serializers.CharField(max_length=150, allow_blank=True, help_text="Username.")
    comment = serializers.CharField(allow_blank=True, default="")
