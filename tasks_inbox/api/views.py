"""REST API v1 of tasks: the inbox's lists, a task, and what people do with it.

Each action checks that the user may see the task (`task_for_user`: a task they may not
see is a 404 whatever they try), validates the body, calls one service and answers with
the task. The services' errors become HTTP answers in one place, `TaskErrorsMixin`.
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response

from orchestrate.api.views import ApiPagination, Conflict, DomainErrorsMixin
from tasks_inbox.models import Task
from tasks_inbox.selectors.tasks import filter_tasks, task_for_user, tasks_for
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

from .serializers import (
    CompleteTaskSerializer,
    DelegateTaskSerializer,
    RequestInfoSerializer,
    SnoozeTaskSerializer,
    TaskDetailSerializer,
    TaskListParamsSerializer,
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


_NOT_FOUND = OpenApiResponse(description="No such task, or not one you may see.")
_FORBIDDEN = OpenApiResponse(description="You may see the task but not act on it.")
_CONFLICT = OpenApiResponse(
    description="The task's state does not allow it (already decided, held by someone "
    "else, waiting for an answer...)."
)
_INVALID = OpenApiResponse(description="Field errors, e.g. a missing required comment.")


def _action_responses(ok=200):
    return {
        ok: TaskDetailSerializer,
        400: _INVALID,
        403: _FORBIDDEN,
        404: _NOT_FOUND,
        409: _CONFLICT,
    }


@extend_schema_view(
    list=extend_schema(
        description="Your tasks (scope `mine`), your queue (`queue`) or what you decided "
        "(`done`), filtered.",
        parameters=[TaskListParamsSerializer],
        responses={200: TaskSerializer(many=True), 400: _INVALID},
    ),
    retrieve=extend_schema(
        description="One task with its conversation and the actions you may take.",
        responses={200: TaskDetailSerializer, 404: _NOT_FOUND},
    ),
)
class TaskViewSet(TaskErrorsMixin, viewsets.GenericViewSet):
    """List and read tasks; claim, release, complete, ask about, delegate and snooze them."""

    # Only for the schema (the path parameter's type); the views ask the selectors.
    queryset = Task.objects.none()
    serializer_class = TaskSerializer
    pagination_class = ApiPagination
    filter_backends = []
    lookup_value_regex = r"\d+"

    def get_object(self):
        task = task_for_user(self.request.user, self.kwargs["pk"])
        self.check_object_permissions(self.request, task)
        return task

    def _answer(self, task, status_code=status.HTTP_200_OK):
        data = TaskDetailSerializer(task, context=self.get_serializer_context()).data
        return Response(data, status=status_code)

    def list(self, request):
        params = TaskListParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        tasks = tasks_for(request.user, params.validated_data["scope"])
        tasks = filter_tasks(tasks.select_related(*LIST_RELATED), params.validated_data)
        page = self.paginate_queryset(tasks)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return self._answer(self.get_object())

    @extend_schema(
        description="Take an open task from your queue.",
        request=None,
        responses=_action_responses(),
    )
    @action(detail=True, methods=["post"])
    def claim(self, request, pk=None):
        task = self.get_object()
        return self._answer(claim_task(task.pk, actor=request.user))

    @extend_schema(
        description="Give a task you hold back to its queue.",
        request=None,
        responses=_action_responses(),
    )
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        task = self.get_object()
        return self._answer(release_task(task.pk, actor=request.user))

    @extend_schema(
        description="Decide a task with one of its outcomes, or answer the question of an "
        "info task (its comment is the answer).",
        request=CompleteTaskSerializer,
        responses=_action_responses(),
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

    @extend_schema(
        description="Ask a question: the task waits for the answer, and the person asked "
        "gets an info task, which is returned.",
        request=RequestInfoSerializer,
        responses=_action_responses(201),
    )
    @action(detail=True, methods=["post"], url_path="request-info")
    def request_info(self, request, pk=None):
        task = self.get_object()
        params = RequestInfoSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        info = request_info(task.pk, actor=request.user, **params.validated_data)
        return self._answer(info, status.HTTP_201_CREATED)

    @extend_schema(
        description="Hand the task to a colleague, who becomes its assignee.",
        request=DelegateTaskSerializer,
        responses=_action_responses(),
    )
    @action(detail=True, methods=["post"])
    def delegate(self, request, pk=None):
        task = self.get_object()
        params = DelegateTaskSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        return self._answer(delegate_task(task.pk, actor=request.user, **params.validated_data))

    @extend_schema(
        description="Snooze a task you hold until a time: it leaves your lists (ask for "
        "`snoozed=true` to see it) while its SLA clock runs on. `until: null` wakes it.",
        request=SnoozeTaskSerializer,
        responses=_action_responses(),
    )
    @action(detail=True, methods=["post"])
    def snooze(self, request, pk=None):
        task = self.get_object()
        params = SnoozeTaskSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        return self._answer(snooze_task(task.pk, actor=request.user, **params.validated_data))
