"""The inbox pages (server-rendered, htmx for partial updates, all usable without JS).

Views are thin: they check access through the selectors, validate a form, call one
service and redirect, or render. `base.TaskErrorMixin` maps the services' errors.
"""

from .email_links import EmailActionView
from .lists import NavCountsView, TaskBulkView, TaskListView
from .people import ProfileView, SavedViewCreateView, SavedViewDeleteView
from .requests import RequestListView, RequestWithdrawView
from .tasks import (
    TaskClaimView,
    TaskCommentView,
    TaskCompleteView,
    TaskDelegateView,
    TaskDetailView,
    TaskReleaseView,
    TaskRequestInfoView,
    TaskSnoozeView,
)

__all__ = [
    "EmailActionView",
    "NavCountsView",
    "ProfileView",
    "RequestListView",
    "RequestWithdrawView",
    "SavedViewCreateView",
    "SavedViewDeleteView",
    "TaskBulkView",
    "TaskClaimView",
    "TaskCommentView",
    "TaskCompleteView",
    "TaskDelegateView",
    "TaskDetailView",
    "TaskListView",
    "TaskReleaseView",
    "TaskRequestInfoView",
    "TaskSnoozeView",
]
