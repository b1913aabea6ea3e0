from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/v1/", include("orchestrate.api.urls")),
    path("inbox/", include("tasks_inbox.urls")),
    path("reports/", include("tasks_inbox.reports_urls")),
]
