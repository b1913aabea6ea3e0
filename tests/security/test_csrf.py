"""GET never changes anything, and a POST from a browser session needs its CSRF token.

The URLs come from the URL resolver, so a new URL is covered as soon as it exists: each is
opened with GET by someone who may use it (the state must stay as it was, and a view that
only takes POST answers 405), then posted to without a CSRF token (refused as a CSRF
failure, or 405 where nothing takes a POST). The API takes token-authenticated calls
without a CSRF token; the same calls on a session need one.
"""

import re

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from orchestrate.models import AuditEvent, Instance
from tasks_inbox.models import (
    ActionLink,
    Notification,
    Profile,
    SavedView,
    Task,
    TaskComment,
    TaskStatus,
)
from tests.factories import UserFactory

from .test_matrix import _admin_url, route_arguments, url_inventory, world  # noqa: F401

pytestmark = pytest.mark.django_db

CSRF_FAILED = ("CSRF verification failed", "CSRF Failed")


def everything(state):
    """The whole state a request could change (row counts and the live rows' fields)."""
    task = Task.objects.get(pk=state["task"].pk)
    return {
        "task": (task.status, task.assignee_id, task.snoozed_until, task.priority, task.title),
        "instance": Instance.objects.get(pk=state["instance"].pk).status,
        "counts": [
            model.objects.count()
            for model in (
                Task,
                TaskComment,
                Instance,
                AuditEvent,
                SavedView,
                Profile,
                Token,
                Notification,
            )
        ],
        "links used": list(ActionLink.objects.values_list("used_at", flat=True)),
    }


def _insider(state, route):
    """Someone who may use the URL: the task's holder, the initiator for her request and
    view, the reports viewer for reports, a superuser for the admin."""
    users = state["users"]
    if route.startswith("admin/"):
        return state["root"]
    if route.startswith("reports/"):
        return state["maria"]
    if "requests/" in route or "views/" in route or route.startswith("api/v1/^instances"):
        return users["alice"]
    return users["bob"]


def _url(state, route):
    """A concrete URL for a route: the state's own rows for the inbox's and API's ids."""
    if route.startswith("admin/"):
        return _admin_url(route, state)
    values = {
        "token": state["link_token"],
        "name": "steps",
        "path": "nothing/",
        "uidb64": "MQ",
        "token2": "x",
    }
    if "requests/" in route or "instances" in route:
        values["pk"] = state["instance"].pk
    elif "views/" in route:
        values["pk"] = state["view"].pk
    else:
        values["pk"] = state["task"].pk
    if route.startswith("accounts/reset/"):
        values["token"] = "set-password"
    route = route.replace("^", "").replace("$", "")
    route = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(values[m.group(1)]), route)
    route = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), route)
    return "/" + route


AREAS = ("inbox/", "reports/", "api/", "admin/", "accounts/", "")


def _area(route):
    return next(area for area in AREAS if route.startswith(area))


def _routes(area):
    """The routes of one area (`""`: the rest), less the admin's catch-all and DRF's
    format suffixes."""
    return [
        route
        for _, route, _ in url_inventory()
        if _area(route) == area
        and not route.endswith("(?P<url>.*)$")
        and "(?P<format>" not in route
        and r"\.(?P" not in route
    ]


# POSTs that need no session, so no CSRF token, and why.
NO_SESSION = {
    # The demo purchase-order service the demo workflow calls: no authentication at all,
    # nothing stored.
    "api/v1/demo/purchase-orders/": "stores nothing",
    # Any unknown API path: a JSON 404 for everybody.
    "api/v1/^(?P<path>.*/)$": "answers 404",
}


@pytest.fixture
def csrf_world(world):  # noqa: F811 (the matrix's fixture)
    world["root"] = UserFactory(username="root", is_staff=True, is_superuser=True)
    world["maria"] = UserFactory(username="maria")
    world["maria"].user_permissions.add(Permission.objects.get(codename="view_reports"))
    return world


def _takes_only_post(pattern):
    view_class = getattr(pattern.callback, "view_class", None)
    if view_class is not None:
        allowed = set(view_class.http_method_names) & set(dir(view_class))
        return "get" not in allowed and "post" in allowed
    actions = getattr(pattern.callback, "actions", None)
    if actions is not None:
        return "get" not in actions and "post" in actions
    return False


PATTERNS = {route: pattern for _, route, pattern in url_inventory()}


@pytest.mark.parametrize("area", AREAS)
def test_get_changes_nothing(csrf_world, area):
    """GET by someone who may use the URL: nothing changes, and a view that only takes
    POST refuses the GET."""
    problems = []
    for route in _routes(area):
        client = Client()
        client.force_login(_insider(csrf_world, route))
        before = everything(csrf_world)
        response = client.get(_url(csrf_world, route))
        if everything(csrf_world) != before:
            problems.append(f"{route}: GET changed the state")
        elif _takes_only_post(PATTERNS[route]) and response.status_code not in (401, 403, 405):
            problems.append(f"{route}: GET answered {response.status_code}, not 405")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("area", AREAS)
def test_a_post_without_the_csrf_token_is_refused(csrf_world, area):
    """A session's POST without the token: a CSRF failure (or 405 where nothing takes a
    POST), and nothing changes."""
    problems = []
    for route in _routes(area):
        client = Client(enforce_csrf_checks=True)
        client.force_login(_insider(csrf_world, route))
        before = everything(csrf_world)
        response = client.post(_url(csrf_world, route), {"outcome": "approve", "comment": "ok"})
        text = response.content.decode()
        if everything(csrf_world) != before:
            problems.append(f"{route}: POST without a token changed the state")
        elif route in NO_SESSION or response.status_code == 405:
            continue
        elif "POST" not in response.get("Allow", "POST"):
            continue  # refused, by a view that takes no POST anyway (DRF's HTML pages)
        elif response.status_code != 403 or not any(t in text for t in CSRF_FAILED):
            problems.append(f"{route}: POST without a token answered {response.status_code}")
    assert not problems, "\n".join(problems)


def test_the_email_link_lands_on_a_confirmation_page(csrf_world):
    client = Client()
    client.force_login(csrf_world["users"]["bob"])
    url = reverse("inbox:email-action", args=[csrf_world["link_token"]])
    response = client.get(url)
    assert response.status_code == 200
    assert "<form" in response.content.decode() and 'method="post"' in response.content.decode()
    task = Task.objects.get(pk=csrf_world["task"].pk)
    assert task.status == TaskStatus.CLAIMED
    assert ActionLink.objects.get().used_at is None


def test_a_token_authenticated_api_call_needs_no_csrf_token(csrf_world):
    token = Token.objects.create(user=csrf_world["users"]["bob"])
    client = APIClient(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Token {token.key}")
    url = reverse("api:task-release", args=[csrf_world["task"].pk])
    response = client.post(url)
    assert response.status_code == 200
    assert Task.objects.get(pk=csrf_world["task"].pk).status == TaskStatus.OPEN


def test_a_session_api_call_needs_the_csrf_token(csrf_world):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(csrf_world["users"]["bob"])
    url = reverse("api:task-release", args=[csrf_world["task"].pk])
    refused = client.post(url)
    assert refused.status_code == 403
    assert "CSRF Failed" in refused.json()["detail"]
    assert Task.objects.get(pk=csrf_world["task"].pk).status == TaskStatus.CLAIMED
    # With the token of the session's cookie, the same call passes.
    client.get(reverse("inbox:task", args=[csrf_world["task"].pk]))
    token = client.cookies["csrftoken"].value
    assert client.post(url, HTTP_X_CSRFTOKEN=token).status_code == 200
    assert Task.objects.get(pk=csrf_world["task"].pk).status == TaskStatus.OPEN


def test_the_inventory_finds_the_state_changing_urls():
    """The derivation above sees the POST-only views (a broken one would pass vacuously)."""
    post_only = {route for route, pattern in PATTERNS.items() if _takes_only_post(pattern)}
    assert "inbox/tasks/<int:pk>/claim/" in post_only
    assert "inbox/views/<int:pk>/delete/" in post_only
    assert any("claim" in route for route in post_only if route.startswith("api/"))
    assert route_arguments("inbox/tasks/<int:pk>/claim/") == ["pk"]
