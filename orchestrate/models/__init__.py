from .audit import AuditEvent, AuditKind
from .calendars import BusinessCalendar, Holiday
from .decisions import Aggregation, DecisionTable, DecisionTableVersion, HitPolicy
from .definitions import (
    Step,
    StepType,
    Transition,
    VersionStatus,
    WorkflowDefinition,
    WorkflowVersion,
)
from .integrations import (
    WEBHOOK_EVENT_KINDS,
    DeliveryStatus,
    InboundEvent,
    WebhookDelivery,
    WebhookSubscription,
)
from .runtime import (
    ENDED_INSTANCE_STATUSES,
    LIVE_STEP_STATUSES,
    Instance,
    InstanceStatus,
    StepRun,
    StepRunStatus,
)
from .security import SecurityEvent, SecurityKind

__all__ = [
    "ENDED_INSTANCE_STATUSES",
    "LIVE_STEP_STATUSES",
    "WEBHOOK_EVENT_KINDS",
    "Aggregation",
    "AuditEvent",
    "AuditKind",
    "BusinessCalendar",
    "DecisionTable",
    "DecisionTableVersion",
    "DeliveryStatus",
    "HitPolicy",
    "Holiday",
    "InboundEvent",
    "Instance",
    "InstanceStatus",
    "SecurityEvent",
    "SecurityKind",
    "Step",
    "StepRun",
    "StepRunStatus",
    "StepType",
    "Transition",
    "VersionStatus",
    "WebhookDelivery",
    "WebhookSubscription",
    "WorkflowDefinition",
    "WorkflowVersion",
]
