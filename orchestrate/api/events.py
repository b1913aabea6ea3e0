"""REST API v1: inbound CloudEvents (`POST /api/v1/events/`), structured JSON mode.

The view checks who may post events, validates the event and calls one service,
`receive_event`; what it answers is documented in docs/integrations.md.
"""

import re

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import JSONParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from orchestrate.access import may_start
from orchestrate.services.events import (
    CONTEXT_ATTRIBUTES,
    EventForbidden,
    EventRefused,
    receive_event,
)

from . import examples
from .schema import error

# CloudEvents: extension names are lowercase letters and digits, at most 20 of them.
_EXTENSION_NAME = re.compile(r"^[a-z0-9]{1,20}$")


def _storable(value):
    """Whether every string in `value` can be stored (as UTF-8 text without NUL)."""
    if isinstance(value, str):
        if "\x00" in value:
            return False
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, dict):
        return all(_storable(k) and _storable(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_storable(v) for v in value)
    return True


class CloudEventsParser(JSONParser):
    """The structured content mode of CloudEvents' JSON format."""

    media_type = "application/cloudevents+json"


class CanPostEvents(BasePermission):
    """The model permission `orchestrate.add_inboundevent` (or a superuser)."""

    message = "You may not post events (it takes the permission orchestrate.add_inboundevent)."

    def has_permission(self, request, view):
        return request.user.has_perm("orchestrate.add_inboundevent")


_REFUSED = "The event cannot be handled by the workflows that subscribe to it; nothing was done."


class CloudEventSerializer(serializers.Serializer):
    """A CloudEvent 1.0; other top-level members are extension attributes."""

    specversion = serializers.ChoiceField(choices=["1.0"], help_text='Always "1.0".')
    id = serializers.CharField(max_length=500, help_text="Unique per source.")
    source = serializers.CharField(max_length=500, help_text="A URI-reference.")
    type = serializers.CharField(
        max_length=200, help_text="The event type; `start_on.event` and message names."
    )
    subject = serializers.CharField(
        max_length=500, required=False, help_text="The correlation key, unless `correlation`."
    )
    time = serializers.DateTimeField(required=False, help_text="RFC 3339.")
    datacontenttype = serializers.CharField(max_length=200, required=False)
    dataschema = serializers.CharField(max_length=1000, required=False)
    data = serializers.JSONField(required=False, allow_null=True)
    correlation = serializers.CharField(
        max_length=200,
        required=False,
        help_text="Extension: the correlation key of waiting message steps.",
    )

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise ValidationError(
                {"non_field_errors": ["Send one event as a JSON object (batches are not read)."]}
            )
        values = super().to_internal_value(data)
        errors = {}
        if "data_base64" in data:
            errors["data_base64"] = ["Binary data is not read; send JSON `data`."]
        media = values.get("datacontenttype", "application/json").split(";")[0].strip().lower()
        if media not in ("application/json", "text/json") and not media.endswith("+json"):
            errors["datacontenttype"] = ["Only JSON data is read (application/json)."]
        for name, value in data.items():
            if name in CONTEXT_ATTRIBUTES or name in ("data_base64", "correlation"):
                continue
            if not _EXTENSION_NAME.match(str(name)):
                errors[name] = ["Extension attribute names are 1-20 lowercase letters and digits."]
            elif not isinstance(value, str | int | bool) or isinstance(value, float):
                errors[name] = ["Extension attributes are strings, integers or booleans."]
        for name, value in data.items():
            if name not in errors and not _storable(value):
                errors[name] = ["Text may not contain NUL characters or lone surrogates."]
        if errors:
            raise ValidationError(errors)
        # Keep the event as sent (strings stay strings), with the checked attributes.
        return {k: v for k, v in data.items() if k != "data_base64"}


class EventOutcomeSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=["accepted", "duplicate"],
        help_text="duplicate: an event with this source and id was received before.",
    )
    source = serializers.CharField()
    id = serializers.CharField()
    started = serializers.ListField(
        child=serializers.DictField(),
        help_text='Instances started: {"workflow", "instance", "created"}; created is false '
        "when an instance with the business key existed.",
    )
    delivered_to = serializers.ListField(
        child=serializers.IntegerField(), help_text="Instances whose message step received it."
    )


class EventErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = serializers.ListField(
        child=serializers.DictField(), help_text='{"workflow", "path", "message"} each.'
    )


class EventReceiveView(GenericAPIView):
    """Receive a CloudEvent: start the workflows that subscribe to its type and deliver it
    to the message steps that wait for it."""

    serializer_class = CloudEventSerializer
    permission_classes = [IsAuthenticated, CanPostEvents]
    parser_classes = [JSONParser, CloudEventsParser]

    @extend_schema(
        operation_id="events_receive",
        tags=["events"],
        description=(
            "Receive one CloudEvent 1.0 in structured JSON mode (application/cloudevents+json "
            "or application/json). Workflows whose current published version has "
            "`start_on.event` equal to the event type start; message steps waiting for a "
            "message named like the type, with the `correlation` extension (else the "
            "subject) as correlation key, receive `data`. An event is handled once per "
            "(source, id)."
        ),
        request=CloudEventSerializer,
        responses={
            202: OpenApiResponse(EventOutcomeSerializer, description="Handled."),
            200: OpenApiResponse(
                EventOutcomeSerializer,
                description="A duplicate: received before; nothing was done again.",
            ),
            400: error("Not a valid CloudEvent; errors by attribute."),
            403: error("You may not post events, or not start a subscribing workflow."),
            415: error("Not JSON."),
            422: OpenApiResponse(
                EventErrorSerializer,
                description="A start_on expression or the start variables failed; nothing "
                "was recorded, so the same event may be sent again.",
            ),
        },
        examples=examples.EVENT_EXAMPLES,
    )
    def post(self, request):
        params = CloudEventSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        event = params.validated_data
        try:
            result = receive_event(
                event=event,
                actor=request.user,
                may_start=lambda definition: may_start(request.user, definition),
            )
        except EventForbidden as exc:
            raise PermissionDenied(str(exc)) from None
        except EventRefused as exc:
            return Response(
                {"detail": _REFUSED, "errors": exc.errors},
                status=status.HTTP_422_UNPROCESSABLE_ENTITY,
            )
        # A duplicate did nothing this time, so its lists are empty. `source` and `id` are
        # text, as recorded (a sender may have sent a number).
        body = {
            "status": "duplicate" if result.duplicate else "accepted",
            "source": str(event["source"]),
            "id": str(event["id"]),
            "started": result.started,
            "delivered_to": result.delivered_to,
        }
        return Response(
            body, status=status.HTTP_200_OK if result.duplicate else status.HTTP_202_ACCEPTED
        )
