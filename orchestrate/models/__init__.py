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
from .runtime import (
    ENDED_INSTANCE_STATUSES,
    LIVE_STEP_STATUSES,
    Instance,
    InstanceStatus,
    StepRun,
    StepRunStatus,
)

__all__ = [
    "ENDED_INSTANCE_STATUSES",
    "LIVE_STEP_STATUSES",
    "Aggregation",
    "AuditEvent",
    "AuditKind",
    "BusinessCalendar",
    "DecisionTable",
    "DecisionTableVersion",
    "HitPolicy",
    "Holiday",
    "Instance",
    "InstanceStatus",
    "Step",
    "StepRun",
    "StepRunStatus",
    "StepType",
    "Transition",
    "VersionStatus",
    "WorkflowDefinition",
    "WorkflowVersion",
]
