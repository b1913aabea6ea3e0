"""REST API v1, included under `api/v1/` by `orchestrate.urls`."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from .demo import PurchaseOrderCreateView
from .views import InstanceViewSet, MessageDeliverView

app_name = "api"

router = SimpleRouter()
router.register("instances", InstanceViewSet, basename="instance")

urlpatterns = [
    *router.urls,
    path("", include("tasks_inbox.api.urls")),
    path("messages/", MessageDeliverView.as_view(), name="message-deliver"),
    path(
        "demo/purchase-orders/",
        PurchaseOrderCreateView.as_view(),
        name="demo-purchase-order-create",
    ),
]
