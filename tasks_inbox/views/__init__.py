"""Scaffold: replaced by the real views."""

from django.views import View


class TaskListView(View):
    scope = None


class NavCountsView(View):
    scope = None


class TaskBulkView(View):
    scope = None


class TaskDetailView(View):
    scope = None


class TaskClaimView(View):
    scope = None


class TaskReleaseView(View):
    scope = None


class TaskCompleteView(View):
    scope = None


class TaskRequestInfoView(View):
    scope = None


class TaskDelegateView(View):
    scope = None


class TaskCommentView(View):
    scope = None


class RequestListView(View):
    scope = None


class RequestWithdrawView(View):
    scope = None


class SavedViewCreateView(View):
    scope = None


class SavedViewDeleteView(View):
    scope = None


class ProfileView(View):
    scope = None


class EmailActionView(View):
    scope = None
