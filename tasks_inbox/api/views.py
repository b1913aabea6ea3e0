"""REST API v1 of tasks: the inbox's lists, a task, and what people do with it.

Each action checks that the user may see the task (`task_for_user`: a task they may not
see is a 404 whatever they try), validates the body, calls one service and answers with
the task. The services' errors become HTTP answers in one place, `TaskErrorsMixin`.
"""

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response

from orchestrate.api import examples
from orchestrate.api.schema import error
from orchestrate.api.views import ApiPagination, Conflict, DomainErrorsMixin
from orchestrate.observability.logging import bind_log_context
from tasks_inbox.models import Task
from tasks_inbox.selectors.access import prime_roles
from tasks_inbox.selectors.tasks import ROW_RELATED, SCOPES, task_for_user, tasks_for
from tasks_inbox.services.errors import (
    TaskConflict,
    TaskForbidden,
    TaskInvalid,
    TaskNotFound,
)
from tasks_inbox.services.tasks import (
    claim_task,
    complete_task,
    delegate_task,
    release_task,
    request_info,
    snooze_task,
)

from .filters import TaskFilter
from .serializers import (
    CompleteTaskSerializer,
    DelegateTaskSerializer,
    RequestInfoSerializer,
    SnoozeTaskSerializer,
    TaskDetailSerializer,
    TaskSerializer,
)

# What `TaskSerializer` reads besides the selectors' own joins.
LIST_RELATED = ("decided_by", "decided_on_behalf_of")


def api_error_for_task(exc):
    """The DRF exception that answers a task service error; others are returned as is."""
    if isinstance(exc, TaskInvalid):
        return ValidationError({field: [message] for field, message in exc.errors.items()})
    if isinstance(exc, TaskNotFound):
        return NotFound(exc.message)
    if isinstance(exc, TaskForbidden):
        return PermissionDenied(exc.message)
    if isinstance(exc, TaskConflict):
        return Conflict(exc.message)
    return exc


def form_errors_nested(errors):
    """A decision's field errors shaped like its body: the form fields' under `data`."""
    nested = {}
    form = {}
    for field, message in errors.items():
        if field in ("outcome", "comment", "data"):
            nested[field] = [message]
        else:
            form[field] = [message]
    if form:
        nested["data"] = form
    return nested


class TaskErrorsMixin(DomainErrorsMixin):
    """Answer the task services' errors with 400 / 403 / 404 / 409."""

    def handle_exception(self, exc):
        return super().handle_exception(api_error_for_task(exc))


_NOT_FOUND = error("No such task, or not one you may see.")
_FORBIDDEN = error("You may see the task but not act on it.")
_CONFLICT = error(
    "The task's state does not allow it (already decided, held by someone else, waiting "
    "for an answer...)."
)
_INVALID = error("Field errors, e.g. a missing required comment.")
_TASK_ID = OpenApiParameter(
    "id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The task's id."
)


def _action(operation_id, description, request, action_examples, ok=200):
    """The schema of a task action: its body, the task (or the new info task) back, and
    the service errors (field errors only for an action that reads a body)."""
    responses = {ok: TaskDetailSerializer, 403: _FORBIDDEN, 404: _NOT_FOUND, 409: _CONFLICT}
    if request is not None:
        responses[400] = _INVALID
    return extend_schema(
        operation_id=operation_id,
        description=description,
        parameters=[_TASK_ID],
        request=request,
        responses=responses,
        examples=action_examples,
    )


@extend_schema_view(
    list=extend_schema(
        operation_id="tasks_list",
        description="Your tasks (scope `mine`), your queue (`queue`) or what you decided "
        "(`done`), filtered; paginated with `page` and `page_size` (at most 200).",
        responses={
            200: TaskSerializer(many=True),
            400: _INVALID,
            404: error("No such page (`page` beyond the last one, or not a number)."),
        },
        examples=examples.TASK_LIST_EXAMPLES,
    ),
    retrieve=extend_schema(
        operation_id="tasks_retrieve",
        description="One task with its conversation and the actions you may take.",
        parameters=[_TASK_ID],
        responses={200: TaskDetailSerializer, 404: _NOT_FOUND},
        examples=examples.TASK_EXAMPLES,
    ),
)
class TaskViewSet(TaskErrorsMixin, viewsets.GenericViewSet):
    """List and read tasks; claim, release, complete, ask about, delegate and snooze them."""

    serializer_class = TaskSerializer
    pagination_class = ApiPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = TaskFilter

    def get_queryset(self):
        """The list that `scope` names (an unknown scope is refused by the filters)."""
        if getattr(self, "swagger_fake_view", False):  # the schema's generator
            return Task.objects.none()
        scope = self.request.query_params.get("scope")
        tasks = tasks_for(self.request.user, scope if scope in SCOPES else "mine")
        # A query per relation for the page's rows, not joined (see ROW_RELATED).
        return tasks.select_related(*LIST_RELATED).prefetch_related(*ROW_RELATED)

    def get_object(self):
        pk = self.kwargs["pk"]
        if not pk.isascii() or not pk.isdigit():
            raise NotFound(TaskNotFound().message)
        bind_log_context(task_id=int(pk))
        task = task_for_user(self.request.user, int(pk))
        self.check_object_permissions(self.request, task)
        return task

    def _answer(self, task, status_code=status.HTTP_200_OK):
        data = TaskDetailSerializer(task, context=self.get_serializer_context()).data
        return Response(data, status=status_code)

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        prime_roles(request.user, page)  # each row's `actions` without a query per row
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return self._answer(self.get_object())

    @_action("tasks_claim", "Take an open task from your queue.", None, examples.CLAIM_EXAMPLES)
    @action(detail=True, methods=["post"])
    def claim(self, request, pk=None):
        task = self.get_object()
        return self._answer(claim_task(task.pk, actor=request.user))

    @_action(
        "tasks_release",
        "Give a task you hold back to its queue.",
        None,
        examples.RELEASE_EXAMPLES,
    )
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        task = self.get_object()
        return self._answer(release_task(task.pk, actor=request.user))

    @_action(
        "tasks_complete",
        "Decide a task you hold with one of its outcomes (and its form's `data`), or "
        "answer the question of an info task (its comment is the answer).",
        CompleteTaskSerializer,
        examples.COMPLETE_EXAMPLES,
    )
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        task = self.get_object()
        params = CompleteTaskSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            task = complete_task(
                task.pk, actor=request.user, channel="api", **params.validated_data
            )
        except TaskInvalid as exc:
            raise ValidationError(form_errors_nested(exc.errors)) from None
        return self._answer(task)

    @_action(
        "tasks_request_info",
        "Ask a question: the task waits for the answer, and the person asked gets an info "
        "task, which is returned.",
        RequestInfoSerializer,
        examples.REQUEST_INFO_EXAMPLES,
        ok=201,
    )
    @action(detail=True, methods=["post"], url_path="request-info")
    def request_info(self, request, pk=None):
        task = self.get_object()
        params = RequestInfoSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        info = request_info(task.pk, actor=request.user, **params.validated_data)
        return self._answer(info, status.HTTP_201_CREATED)

    @_action(
        "tasks_delegate",
        "Hand the task to a colleague, who becomes its assignee.",
        DelegateTaskSerializer,
        examples.DELEGATE_EXAMPLES,
    )
    @action(detail=True, methods=["post"])
    def delegate(self, request, pk=None):
        task = self.get_object()
        params = DelegateTaskSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        return self._answer(delegate_task(task.pk, actor=request.user, **params.validated_data))

    @_action(
        "tasks_snooze",
        "Snooze a task you hold until a time: it leaves your lists (ask for "
        "`snoozed=true` to see it) while its SLA clock runs on. `until: null` wakes it.",
        SnoozeTaskSerializer,
        examples.SNOOZE_EXAMPLES,
    )
    @action(detail=True, methods=["post"])
    def snooze(self, request, pk=None):
        task = self.get_object()
        params = SnoozeTaskSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        return self._answer(snooze_task(task.pk, actor=request.user, **params.validated_data))
