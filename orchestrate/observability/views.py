"""`/metrics` (Prometheus text format) and `/healthz` (JSON)."""

import hmac

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from orchestrate.security import client_address

from .health import health
from .metrics import render_metrics

LOCAL_ADDRESSES = ("127.0.0.1", "::1")


def metrics_access(request):
    """None if the request may read the metrics, else the refusing response.

    With METRICS_TOKEN set, only `Authorization: Bearer <METRICS_TOKEN>` is accepted.
    Without it, requests from this machine and staff sessions are."""
    token = settings.METRICS_TOKEN
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token):
            return None
        response = HttpResponse("A valid bearer token is required.\n", status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    # The client's address, not the nearest proxy's: behind a proxy on this machine every
    # request would come from 127.0.0.1.
    if client_address(request) in LOCAL_ADDRESSES:
        return None
    if request.user.is_authenticated and request.user.is_staff:
        return None
    return HttpResponse(
        "Metrics are served to this machine and to staff only (or set METRICS_TOKEN).\n",
        status=403,
    )


@never_cache
@require_GET
def metrics_view(request):
    refused = metrics_access(request)
    if refused is not None:
        return refused
    return HttpResponse(render_metrics(), content_type=CONTENT_TYPE_LATEST)


@never_cache
@require_GET
def healthz_view(request):
    """200 when the database and the broker answer, 503 otherwise; no authentication."""
    healthy, checks = health()
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks},
        status=200 if healthy else 503,
    )
