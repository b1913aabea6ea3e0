from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from orchestrate.observability.views import healthz_view, metrics_view

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/v1/", include("orchestrate.api.urls")),
    path("inbox/", include("tasks_inbox.urls")),
    path("reports/", include("tasks_inbox.reports_urls")),
    # The API's OpenAPI schema and its documentation page (Swagger UI without inline script).
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("metrics", metrics_view, name="metrics"),
    path("healthz", healthz_view, name="healthz"),
]
