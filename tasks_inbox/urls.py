from django.urls import path

from . import views

app_name = "inbox"

urlpatterns = [
    path("", views.TaskListView.as_view(scope="mine"), name="mine"),
    path("queue/", views.TaskListView.as_view(scope="queue"), name="queue"),
    path("done/", views.TaskListView.as_view(scope="done"), name="done"),
    path("counts/", views.NavCountsView.as_view(), name="counts"),
    path("bulk/", views.TaskBulkView.as_view(), name="bulk"),
    path("tasks/<int:pk>/", views.TaskDetailView.as_view(), name="task"),
    path("tasks/<int:pk>/claim/", views.TaskClaimView.as_view(), name="claim"),
    path("tasks/<int:pk>/release/", views.TaskReleaseView.as_view(), name="release"),
    path("tasks/<int:pk>/complete/", views.TaskCompleteView.as_view(), name="complete"),
    path("tasks/<int:pk>/request-info/", views.TaskRequestInfoView.as_view(), name="request-info"),
    path("tasks/<int:pk>/delegate/", views.TaskDelegateView.as_view(), name="delegate"),
    path("tasks/<int:pk>/comment/", views.TaskCommentView.as_view(), name="comment"),
    path("tasks/<int:pk>/snooze/", views.TaskSnoozeView.as_view(), name="snooze"),
    path("requests/", views.RequestListView.as_view(), name="requests"),
    path("requests/<int:pk>/withdraw/", views.RequestWithdrawView.as_view(), name="withdraw"),
    path("views/", views.SavedViewCreateView.as_view(), name="save-view"),
    path("views/<int:pk>/delete/", views.SavedViewDeleteView.as_view(), name="delete-view"),
    path("profile/", views.ProfileView.as_view(), name="profile"),
    path("email-action/<str:token>/", views.EmailActionView.as_view(), name="email-action"),
]
