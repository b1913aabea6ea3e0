from .notifications import ActionLink, Notification, NotificationKind
from .people import Profile
from .saved_views import SavedView
from .tasks import (
    ACTIONABLE_TASK_STATUSES,
    LIVE_TASK_STATUSES,
    CommentKind,
    Priority,
    Task,
    TaskComment,
    TaskKind,
    TaskStatus,
)

__all__ = [
    "ACTIONABLE_TASK_STATUSES",
    "LIVE_TASK_STATUSES",
    "ActionLink",
    "CommentKind",
    "Notification",
    "NotificationKind",
    "Priority",
    "Profile",
    "SavedView",
    "Task",
    "TaskComment",
    "TaskKind",
    "TaskStatus",
]
