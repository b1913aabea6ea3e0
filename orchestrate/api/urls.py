"""REST API v1, included under `api/v1/` by `orchestrate.urls`."""

from django.urls import include, path, re_path
from rest_framework.routers import SimpleRouter

from .demo import PurchaseOrderCreateView
from .events import EventReceiveView
from .views import InstanceViewSet, MessageDeliverView, api_not_found

app_name = "api"

router = SimpleRouter()
router.register("instances", InstanceViewSet, basename="instance")

urlpatterns = [
    *router.urls,
    path("", include("tasks_inbox.api.urls")),
    path("messages/", MessageDeliverView.as_view(), name="message-deliver"),
    path("events/", EventReceiveView.as_view(), name="event-receive"),
    path(
        "demo/purchase-orders/",
        PurchaseOrderCreateView.as_view(),
        name="demo-purchase-order-create",
    ),
    # Last: any other path ending in a slash is a JSON 404, not Django's HTML page (a
    # path without the slash is still redirected to it first, by APPEND_SLASH).
    re_path(r"^(?P<path>.*/)$", api_not_found, name="not-found"),
]
