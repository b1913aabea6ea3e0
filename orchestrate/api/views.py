"""REST API v1: instances and messages.

Each view parses its input with a serializer, calls one service and answers. The domain
errors of the services become HTTP answers in one place, `DomainErrorsMixin`; visibility
comes from `permissions.instances_visible_to`, so an instance a user may not see is a 404
for every action.
"""

from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import (
    action,
    api_view,
    authentication_classes,
    permission_classes,
)
from rest_framework.exceptions import APIException, NotFound, PermissionDenied, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response

from orchestrate.access import may_start
from orchestrate.models import LIVE_STEP_STATUSES, StepRun, WorkflowDefinition
from orchestrate.services.instances import (
    InstanceStateError,
    StartError,
    VariablesInvalid,
    cancel_instance,
    start_instance,
)
from orchestrate.services.messages import deliver_message

from . import examples
from .filters import InstanceFilter
from .permissions import CanCancelInstance, instances_visible_to
from .schema import error
from .serializers import (
    AuditEventSerializer,
    CancelInstanceSerializer,
    DeliverMessageSerializer,
    InstanceSerializer,
    MessageDeliveredSerializer,
    StartInstanceSerializer,
)


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


def api_error_for(exc):
    """The DRF exception that answers a domain error; any other exception is returned as is."""
    if isinstance(exc, VariablesInvalid):
        return ValidationError({"variables": {name: [msg] for name, msg in exc.errors.items()}})
    if isinstance(exc, StartError):
        return ValidationError({"workflow": [str(exc)]})
    if isinstance(exc, InstanceStateError):
        return Conflict(str(exc))
    return exc


class DomainErrorsMixin:
    """Answer the services' domain errors with 400 / 409 instead of a server error."""

    def handle_exception(self, exc):
        return super().handle_exception(api_error_for(exc))


class ApiPagination(PageNumberPagination):
    # PAGE_SIZE (50) from the settings stays the default; clients may ask for other sizes.
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_paginated_response_schema(self, schema):
        # drf-spectacular wraps a list's examples (one item each) in these example values:
        # a page that holds every result.
        paginated = super().get_paginated_response_schema(schema)
        fields = paginated["properties"]
        fields["count"]["example"] = 1
        fields["next"]["example"] = None
        fields["previous"]["example"] = None
        return paginated


def with_live_step_runs(queryset):
    """What `InstanceSerializer` reads, in a fixed number of queries whatever the page
    size: definition, version and starter joined, live step runs in one prefetch."""
    live_runs = StepRun.objects.filter(status__in=LIVE_STEP_STATUSES).order_by("created_at", "id")
    return queryset.select_related("definition", "version", "started_by").prefetch_related(
        Prefetch("step_runs", queryset=live_runs, to_attr="live_step_runs")
    )


_NOT_FOUND = error("No such instance, or not one you may see.")
_BAD_PAGE = error("No such page (`page` beyond the last one, or not a number).")


@extend_schema_view(
    list=extend_schema(
        operation_id="instances_list",
        description="Instances you may see, newest first, filtered by workflow key, status "
        "and business key; paginated with `page` and `page_size` (at most 200).",
        responses={
            200: InstanceSerializer(many=True),
            400: error("A filter value is not valid (e.g. an unknown status)."),
            404: _BAD_PAGE,
        },
        examples=examples.INSTANCE_LIST_EXAMPLES,
    ),
    retrieve=extend_schema(
        operation_id="instances_retrieve",
        description="One instance with its live steps.",
        responses={200: InstanceSerializer, 404: _NOT_FOUND},
        examples=examples.INSTANCE_EXAMPLES,
    ),
)
class InstanceViewSet(
    DomainErrorsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Start, list, read and cancel instances, and read their audit trail."""

    serializer_class = InstanceSerializer
    filterset_class = InstanceFilter
    pagination_class = ApiPagination

    def get_queryset(self):
        queryset = instances_visible_to(self.request.user).order_by("-started_at", "-id")
        if self.action in ("list", "retrieve"):
            queryset = with_live_step_runs(queryset)
        return queryset

    def filter_queryset(self, queryset):
        # The filters narrow the list; they must not turn a detail URL into a 404.
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    def _instance_data(self, pk):
        """The instance as `InstanceSerializer` renders it, or None if the user may not
        see it."""
        visible = with_live_step_runs(instances_visible_to(self.request.user))
        instance = visible.filter(pk=pk).first()
        return None if instance is None else InstanceSerializer(instance).data

    @extend_schema(
        operation_id="instances_start",
        description="Start an instance of the published version of a workflow. With a "
        "`business_key`, starting again returns the first instance (200) instead of a "
        "second one.",
        request=StartInstanceSerializer,
        responses={
            201: OpenApiResponse(InstanceSerializer, description="Started."),
            200: OpenApiResponse(
                InstanceSerializer, description="The instance that has this business key."
            ),
            400: error("Invalid input, unknown workflow or variables."),
            403: error("You may not start this workflow."),
            409: error("The business key belongs to an instance you may not see."),
        },
        examples=examples.START_EXAMPLES,
    )
    def create(self, request):
        params = StartInstanceSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        definition = WorkflowDefinition.objects.filter(
            key=params.validated_data["workflow"]
        ).first()
        # An unknown workflow is left to `start_instance`, which answers it with a 400.
        if definition is not None and not may_start(request.user, definition):
            raise PermissionDenied(f"You may not start '{definition.key}'.")
        instance, created = start_instance(
            workflow_key=params.validated_data["workflow"],
            variables=params.validated_data["variables"],
            business_key=params.validated_data["business_key"],
            actor=request.user,
        )
        data = self._instance_data(instance.pk)
        if data is None:
            # Another user's start holds this business key; don't show their instance.
            raise Conflict("An instance of this workflow already has this business key.")
        return Response(data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(
        operation_id="instances_cancel",
        description="Cancel a live instance and its live steps.",
        request=CancelInstanceSerializer,
        responses={
            200: InstanceSerializer,
            400: error("Invalid input (e.g. a reason longer than 1000 characters)."),
            403: error("You may see the instance but not cancel it."),
            404: _NOT_FOUND,
            409: error("The instance has already ended."),
        },
        examples=examples.CANCEL_EXAMPLES,
    )
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated, CanCancelInstance])
    def cancel(self, request, pk=None):
        instance = self.get_object()
        params = CancelInstanceSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        cancel_instance(instance.pk, actor=request.user, reason=params.validated_data["reason"])
        return Response(self._instance_data(instance.pk))

    @extend_schema(
        operation_id="instances_history",
        description="The audit trail of an instance, oldest first; paginated.",
        responses={
            200: AuditEventSerializer(many=True),
            404: error("No such instance (or not one you may see), or no such page."),
        },
        examples=examples.HISTORY_EXAMPLES,
    )
    @action(detail=True, methods=["get"], serializer_class=AuditEventSerializer, filter_backends=[])
    def history(self, request, pk=None):
        instance = self.get_object()
        events = instance.audit_events.order_by("at", "id")
        page = self.paginate_queryset(events)
        return self.get_paginated_response(AuditEventSerializer(page, many=True).data)


class MessageDeliverView(DomainErrorsMixin, GenericAPIView):
    """Deliver a message to every instance that waits for it."""

    serializer_class = DeliverMessageSerializer

    @extend_schema(
        operation_id="messages_deliver",
        tags=["messages"],
        description="Deliver a message to every instance that waits for it: a message "
        "step with this `name` whose correlation variable equals `correlation` (compared "
        "as text). The payload is merged into the receivers' variables.",
        request=DeliverMessageSerializer,
        responses={
            202: MessageDeliveredSerializer,
            400: error("Invalid input (e.g. a missing name or correlation)."),
            404: error("No instance waits for this message."),
        },
        examples=examples.MESSAGE_EXAMPLES,
    )
    def post(self, request):
        params = DeliverMessageSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        name = params.validated_data["name"]
        correlation = params.validated_data["correlation"]
        delivered = deliver_message(
            name=name,
            correlation=correlation,
            payload=params.validated_data["payload"],
            actor=request.user,
        )
        if not delivered:
            raise NotFound(
                f"No instance waits for message '{name}' with correlation '{correlation}'."
            )
        return Response({"delivered_to": delivered}, status=status.HTTP_202_ACCEPTED)


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE"])
@authentication_classes([])
@permission_classes([AllowAny])
def api_not_found(request, path=""):
    """Any other path under /api/v1/: a JSON 404 rather than Django's HTML page."""
    raise NotFound("No such API endpoint.")
