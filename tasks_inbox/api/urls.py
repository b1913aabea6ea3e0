"""Task routes of the REST API, included by `orchestrate.api.urls` (so `/api/v1/tasks/`)."""

from rest_framework.routers import SimpleRouter

from .views import TaskViewSet

router = SimpleRouter()
router.register("tasks", TaskViewSet, basename="task")

urlpatterns = router.urls
