from .audit import AuditEvent, AuditKind
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
    "AuditEvent",
    "AuditKind",
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
