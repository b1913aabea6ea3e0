"""Inbound CloudEvents: recording them once, starting the workflows that subscribe to
their type (`start_on`) and delivering them to the `message` steps waiting for them.

An event is handled whole or not at all: the record, the deliveries and the starts are
one transaction, and every `start_on` expression is evaluated before anything is
written. So an event that cannot be handled (an expression fails, the variables it gives
are invalid, the sender may not start a subscribing workflow) leaves no trace, and the
sender may send the same event again once the workflow is fixed. A handled event is
recorded under its (source, id); the same event again is a duplicate and changes nothing.

Correlation with waiting `message` steps: the event's `type` is the message name and the
correlation key is the `correlation` extension attribute, or else the `subject`. The
event's `data` (an object) is the message payload.
"""

import datetime
import re
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from orchestrate.engine import expressions
from orchestrate.engine.walker import correlation_text
from orchestrate.models import InboundEvent, VersionStatus, WorkflowVersion

from .instances import StartError, VariablesInvalid, start_instance
from .messages import deliver_message

# The attributes CloudEvents 1.0 defines; any other top-level member is an extension.
CONTEXT_ATTRIBUTES = (
    "specversion",
    "id",
    "source",
    "type",
    "subject",
    "time",
    "datacontenttype",
    "dataschema",
    "data",
)
CORRELATION_EXTENSION = "correlation"
MAX_BUSINESS_KEY_LENGTH = 200  # Instance.business_key
# How `expressions.evaluate` reports a field the event does not have: "'<source>': 'name'".
_MISSING_FIELD = re.compile(r"^('.*'): '([^']+)'$", re.DOTALL)


def _explain(exc):
    """The evaluation error, with a missing field said in words."""
    text = str(exc)
    match = _MISSING_FIELD.match(text)
    if match:
        return f"{match.group(1)}: no field '{match.group(2)}' (test it with has() first)"
    return text


class EventRefused(Exception):
    """The event cannot be handled as the subscribing workflows stand (a 422 for the
    API); `errors` lists {"workflow", "path", "message"}. Nothing was written."""

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("; ".join(f"{e['workflow']}: {e['path']}: {e['message']}" for e in errors))


class EventForbidden(Exception):
    """The sender may not start a workflow that this event would start (a 403)."""


@dataclass
class EventResult:
    duplicate: bool
    event: InboundEvent
    started: list = field(default_factory=list)  # {"workflow", "instance", "created"}
    delivered_to: list = field(default_factory=list)  # instance ids


def workflows_starting_on(event_type):
    """The current published versions (with their definitions) whose `start_on.event` is
    `event_type`. A definition's newer published version without `start_on` stops it."""
    candidates = WorkflowVersion.objects.filter(
        status=VersionStatus.PUBLISHED, start_on__event=event_type
    ).select_related("definition")
    current = []
    for version in candidates.order_by("definition__key", "-number"):
        if version.definition.current_version().pk == version.pk:
            current.append(version)
    return current


def event_context(event, now=None):
    """What `start_on` expressions see: `event` (its attributes, extensions and `data`,
    null when absent) and `now`."""
    values = dict(event)
    values.setdefault("data", None)
    return {"event": values, "now": now or datetime.datetime.now(datetime.UTC)}


def _plan_start(version, context):
    """(business key, variables) for one subscribing version, or raises EventRefused."""
    start_on = version.start_on
    key = version.definition.key
    errors = []
    business_key = ""
    if start_on.get("business_key"):
        path = "start_on.business_key"
        try:
            value = expressions.evaluate(start_on["business_key"], context)
        except expressions.ExpressionError as exc:
            errors.append({"workflow": key, "path": path, "message": _explain(exc)})
        else:
            business_key = "" if value is None else correlation_text(value)
            if len(business_key) > MAX_BUSINESS_KEY_LENGTH:
                errors.append(
                    {
                        "workflow": key,
                        "path": path,
                        "message": f"the business key is longer than "
                        f"{MAX_BUSINESS_KEY_LENGTH} characters",
                    }
                )
    variables = {}
    for name, source in (start_on.get("variables") or {}).items():
        try:
            value = expressions.evaluate(source, context)
        except expressions.ExpressionError as exc:
            errors.append(
                {"workflow": key, "path": f"start_on.variables.{name}", "message": _explain(exc)}
            )
        else:
            variables[name] = expressions.to_json_value(value)
    if errors:
        raise EventRefused(errors)
    return business_key, variables


def _payload(event):
    data = event.get("data")
    if isinstance(data, dict):
        return data
    return {} if data is None else {"data": data}


def receive_event(*, event, actor=None, may_start=None):
    """Handle a validated CloudEvent (`event`, a dict of its attributes, extensions and
    data) once per (source, id).

    Returns an EventResult; for a duplicate, nothing is written and `event` is the first
    record. Raises EventForbidden when `may_start(definition)` refuses a subscribing
    workflow, EventRefused when an expression or the start variables fail: in both cases
    nothing is written. In one transaction: record the event (its unique constraint makes
    a concurrent copy a duplicate), deliver it to the waiting message steps, then start
    the subscribing workflows (so a new instance does not receive its own start event).
    """
    source, event_id = event["source"], event["id"]
    identity = InboundEvent.identity_of(source, event_id)
    first = InboundEvent.objects.filter(identity=identity).first()
    if first is not None:
        return EventResult(duplicate=True, event=first)
    versions = workflows_starting_on(event["type"])
    if may_start is not None:
        for version in versions:
            if not may_start(version.definition):
                raise EventForbidden(
                    f"You may not start '{version.definition.key}', which starts on "
                    f"'{event['type']}' events."
                )
    context = event_context(event)
    plans, errors = [], []
    for version in versions:
        try:
            plans.append((version, *_plan_start(version, context)))
        except EventRefused as exc:
            errors.extend(exc.errors)
    if errors:
        raise EventRefused(errors)
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = InboundEvent.objects.create(
                    identity=identity,
                    source=source,
                    event_id=event_id,
                    type=event["type"],
                    subject=event.get("subject") or "",
                    time=_parse_time(event.get("time")),
                    body=event,
                    received_by=actor,
                    received_at=timezone.now(),
                )
        except IntegrityError:
            # The same event arrived twice at once; the other copy is handled.
            return EventResult(
                duplicate=True,
                event=InboundEvent.objects.get(identity=identity),
            )
        result = EventResult(duplicate=False, event=record)
        correlation = event.get(CORRELATION_EXTENSION, event.get("subject"))
        if correlation not in (None, ""):
            result.delivered_to = deliver_message(
                name=event["type"], correlation=correlation, payload=_payload(event), actor=actor
            )
        for version, business_key, variables in plans:
            key = version.definition.key
            try:
                instance, created = start_instance(
                    workflow_key=key, variables=variables, business_key=business_key, actor=actor
                )
            except VariablesInvalid as exc:
                raise EventRefused(
                    {"workflow": key, "path": f"start_on.variables.{name}", "message": message}
                    for name, message in exc.errors.items()
                ) from None
            except StartError as exc:
                raise EventRefused(
                    [{"workflow": key, "path": "start_on", "message": str(exc)}]
                ) from None
            result.started.append({"workflow": key, "instance": instance.pk, "created": created})
        record.outcome = {"started": result.started, "delivered_to": result.delivered_to}
        record.save(update_fields=["outcome"])
    return result


def _parse_time(value):
    """The event's `time` (RFC 3339 text, as the API checked it) as a datetime, or None."""
    if isinstance(value, datetime.datetime):
        parsed = value
    else:
        try:
            parsed = parse_datetime(str(value or ""))
        except ValueError:
            parsed = None
    if parsed is None:
        return None
    return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=datetime.UTC)
