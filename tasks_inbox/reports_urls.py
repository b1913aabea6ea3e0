"""/reports/: the SLA reports (see tasks_inbox/views/reports.py)."""

from django.urls import path

from .views.reports import ReportCsvView, ReportView

app_name = "reports"

urlpatterns = [
    path("", ReportView.as_view(page="overview"), name="overview"),
    path("steps/", ReportView.as_view(page="steps"), name="steps"),
    path("people/", ReportView.as_view(page="people"), name="people"),
    path("variants/", ReportView.as_view(page="variants"), name="variants"),
    path("csv/<slug:name>/", ReportCsvView.as_view(), name="csv"),
]
