from .notifications import ActionLink, Notification, NotificationKind
from .people import Profile
from .reports import ReportAccess
from .saved_views import SavedView
from .tasks import (
    LIVE_TASK_STATUSES,
    CommentKind,
    Priority,
    SlaState,
    Task,
    TaskComment,
    TaskKind,
    TaskStatus,
)
from .timers import DigestLog, TaskTimer, TimerKind, TimerStatus

__all__ = [
    "LIVE_TASK_STATUSES",
    "ActionLink",
    "CommentKind",
    "DigestLog",
    "Notification",
    "NotificationKind",
    "Priority",
    "Profile",
    "ReportAccess",
    "SavedView",
    "SlaState",
    "Task",
    "TaskComment",
    "TaskKind",
    "TaskStatus",
    "TaskTimer",
    "TimerKind",
    "TimerStatus",
]
