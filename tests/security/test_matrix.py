"""The authorization matrix: every URL that takes an object id, tried by every role that
should not reach that object. They get a 404 or a 403 (anonymous people: the login page,
or a 401/403 from the API), nothing changes, and the lists show none of the object's rows.

The URLs come from the URL resolver: a new object URL that this matrix does not cover
fails `test_every_object_url_is_in_the_matrix`.
"""

import datetime
import re

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from guardian.shortcuts import assign_perm
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from orchestrate.models import AuditEvent, Instance
from tasks_inbox.models import Profile, SavedView, Task, TaskComment
from tasks_inbox.services.notifications import make_action_link
from tasks_inbox.services.tasks import add_comment, claim_task, request_info
from tests.factories import GroupFactory, UserFactory
from tests.tasks_inbox.factories import approval_workflow, people, start

pytestmark = pytest.mark.django_db

SECRET = "Zebra-7731"  # in the request's variables, so in the task's title and pages
PRIVATE_VIEW = "Okapi-4410"  # the name of alice's own saved view


# --- the URL inventory --------------------------------------------------------------------
def url_inventory(patterns=None, prefix="", namespace=None):
    """(name, route, pattern) of every URL the project answers, namespaced like reverse()."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from url_inventory(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            name = entry.name and (f"{namespace}:{entry.name}" if namespace else entry.name)
            yield name, prefix + str(entry.pattern), entry


def route_arguments(route):
    """The names of the arguments a route takes: `<int:pk>` and `(?P<pk>...)` alike."""
    return re.findall(r"<(?:\w+:)?(\w+)>", route.replace("(?P<", "<").replace(">[", ">"))


def object_urls():
    """Every URL with an argument, except the admin's (checked model by model below)."""
    return {
        name or route: route
        for name, route, _ in url_inventory()
        if route_arguments(route) and not route.startswith("admin/")
    }


def admin_object_routes():
    return [
        (name, route)
        for name, route, _ in url_inventory()
        # app_label and the catch-all `url` name no object.
        if route.startswith("admin/") and set(route_arguments(route)) - {"app_label", "url"}
    ]


# --- the world: a request of alice's, decided by the managers ---------------------------------
@pytest.fixture
def world(broker):
    """alice's request (its task held by bob) and everyone who must not reach it."""
    users = people()
    approval_workflow()
    approval_workflow(key="other")
    instance = start("approval", users["alice"], item=SECRET)
    task = Task.objects.get(instance=instance)
    claim_task(task.pk, actor=users["bob"])
    add_comment(task.pk, actor=users["bob"], text=f"about {SECRET}")

    # frank substituted bob, but bob is back since yesterday.
    frank = UserFactory(username="frank")
    today = timezone.localdate()
    Profile.objects.create(
        user=users["bob"],
        absent_from=today - datetime.timedelta(days=10),
        absent_until=today - datetime.timedelta(days=1),
        substitute=frank,
    )
    # grace holds every guardian permission, but on the other workflow and its task.
    grace = UserFactory(username="grace")
    other_instance = start("other", users["dave"])
    other_task = Task.objects.get(instance=other_instance)
    other_definition = other_instance.definition
    for perm in ("view_workflow_instances", "start_workflow", "change_workflowdefinition"):
        assign_perm(f"orchestrate.{perm}", grace, other_definition)
    for perm in ("view_task", "change_task"):
        assign_perm(f"tasks_inbox.{perm}", grace, other_task)
    # The same, given to a group of grace's.
    auditors = GroupFactory(name="auditors")
    grace.groups.add(auditors)
    assign_perm("orchestrate.view_workflow_instances", auditors, other_definition)
    # Staff: one with no permission, one who may edit only the other workflow.
    staffer = UserFactory(username="staffer", is_staff=True)
    editor = UserFactory(username="editor", is_staff=True)
    assign_perm("orchestrate.change_workflowdefinition", editor, other_definition)

    view = SavedView.objects.create(owner=users["alice"], name=PRIVATE_VIEW, params={})
    link = make_action_link(task, users["bob"], "approve")
    return {
        "users": {**users, "frank": frank, "grace": grace, "staffer": staffer, "editor": editor},
        "instance": instance,
        "task": task,
        "view": view,
        "link_token": link.rstrip("/").rsplit("/", 1)[1],
    }


def snapshot(world):
    """What a refused request must leave as it was."""
    task = Task.objects.get(pk=world["task"].pk)
    return {
        "task": (task.status, task.assignee_id, task.snoozed_until, task.priority),
        "tasks": Task.objects.count(),
        "comments": TaskComment.objects.count(),
        "instance": Instance.objects.get(pk=world["instance"].pk).status,
        "views": SavedView.objects.count(),
        "audit": AuditEvent.objects.filter(instance=world["instance"]).count(),
    }


# --- the matrix -------------------------------------------------------------------------------
# Who must not reach each object URL. "page": a logged-in page (anonymous people go to the
# login page); "api": a REST endpoint (anonymous: 401/403). `body` is a valid POST body.
EVERYBODY_ELSE = ("erin", "dave", "frank", "grace", "staffer", "editor")
TASK_OUTSIDERS = ("alice", *EVERYBODY_ELSE)  # alice: excluded by four-eyes

MATRIX = {
    "inbox:task": {"kind": "page", "method": "get", "arg": "task", "refused": TASK_OUTSIDERS},
    "inbox:claim": {"kind": "page", "arg": "task", "refused": TASK_OUTSIDERS},
    "inbox:release": {"kind": "page", "arg": "task", "refused": TASK_OUTSIDERS},
    "inbox:complete": {
        "kind": "page",
        "arg": "task",
        "refused": TASK_OUTSIDERS,
        "body": {"outcome": "approve", "comment": "ok"},
    },
    "inbox:request-info": {
        "kind": "page",
        "arg": "task",
        "refused": TASK_OUTSIDERS,
        "body": {"question": "why?", "to": "initiator"},
    },
    "inbox:delegate": {
        "kind": "page",
        "arg": "task",
        "refused": TASK_OUTSIDERS,
        "body": {"to": "carol", "comment": "yours"},
    },
    "inbox:comment": {
        "kind": "page",
        "arg": "task",
        "refused": TASK_OUTSIDERS,
        "body": {"text": "hello"},
    },
    "inbox:snooze": {
        "kind": "page",
        "arg": "task",
        "refused": TASK_OUTSIDERS,
        "body": {"until": "2099-01-01T09:00"},
    },
    "inbox:withdraw": {
        "kind": "page",
        "arg": "instance",
        "refused": ("bob", "carol", *EVERYBODY_ELSE),
        "body": {"reason": "not mine"},
    },
    "inbox:delete-view": {"kind": "page", "arg": "view", "refused": ("bob", *EVERYBODY_ELSE)},
    # bob's link: carol may decide the task, but not with bob's link.
    "inbox:email-action": {
        "kind": "page",
        "arg": "link_token",
        "refused": ("alice", "carol", *EVERYBODY_ELSE),
        "both": True,
        "body": {"comment": "ok"},
    },
    "reports:csv": {
        "kind": "page",
        "method": "get",
        "arg": "report",
        "refused": ("alice", "bob", *EVERYBODY_ELSE),
    },
    "api:instance-detail": {
        "kind": "api",
        "method": "get",
        "arg": "instance",
        "refused": ("bob", "carol", *EVERYBODY_ELSE),
    },
    "api:instance-history": {
        "kind": "api",
        "method": "get",
        "arg": "instance",
        "refused": ("bob", "carol", *EVERYBODY_ELSE),
    },
    "api:instance-cancel": {
        "kind": "api",
        "arg": "instance",
        "refused": ("bob", "carol", *EVERYBODY_ELSE),
        "body": {"reason": "no"},
    },
    "api:task-detail": {"kind": "api", "method": "get", "arg": "task", "refused": TASK_OUTSIDERS},
    "api:task-claim": {"kind": "api", "arg": "task", "refused": TASK_OUTSIDERS},
    "api:task-release": {"kind": "api", "arg": "task", "refused": TASK_OUTSIDERS},
    "api:task-complete": {
        "kind": "api",
        "arg": "task",
        "refused": TASK_OUTSIDERS,
        "body": {"outcome": "approve", "comment": "ok"},
    },
    "api:task-request-info": {
        "kind": "api",
        "arg": "task",
        "refused": TASK_OUTSIDERS,
        "body": {"question": "why?", "to": "initiator"},
    },
    "api:task-delegate": {
        "kind": "api",
        "arg": "task",
        "refused": TASK_OUTSIDERS,
        "body": {"to": "carol", "comment": "yours"},
    },
    "api:task-snooze": {
        "kind": "api",
        "arg": "task",
        "refused": TASK_OUTSIDERS,
        "body": {"until": "2099-01-01T09:00:00Z"},
    },
}
# Object URLs that reach no object of ours, and why.
NOT_OBJECTS = {
    # Django's own password reset: the token is the access check.
    "password_reset_confirm",
    # Any unknown path under /api/v1/: a JSON 404 for everybody.
    "api:not-found",
}


def test_every_object_url_is_in_the_matrix():
    missing = set(object_urls()) - set(MATRIX) - NOT_OBJECTS
    assert not missing, f"add these object URLs to the authorization matrix: {sorted(missing)}"
    assert set(MATRIX) <= set(object_urls()), "the matrix names URLs that no longer exist"


def _argument(world, arg):
    if arg == "report":
        return "steps"
    if arg == "link_token":
        return world["link_token"]
    return world[arg].pk


def _cases():
    for name, entry in MATRIX.items():
        methods = ["get", "post"] if entry.get("both") else [entry.get("method", "post")]
        for method in methods:
            yield pytest.param(name, method, id=f"{name}-{method}")


def _login_page(response):
    return response.status_code == 302 and response["Location"].startswith(
        reverse("login") + "?next="
    )


def _refusal(entry, who, response):
    """What is wrong with the answer to someone who must not reach the object, or ''."""
    if who is None and entry["kind"] == "page":
        ok = _login_page(response)
    elif who is None:
        ok = response.status_code in (401, 403)
    else:
        ok = response.status_code in (403, 404)
    if not ok:
        return f"answered {response.status_code} {response.get('Location', '')}"
    if SECRET in response.content.decode():
        return "shows the object"
    return ""


@pytest.mark.parametrize(("name", "method"), list(_cases()))
def test_strangers_cannot_reach_the_object(world, name, method):
    """Anonymous people and every role listed for the URL: refused, and nothing changed."""
    entry = MATRIX[name]
    url = reverse(name, args=[_argument(world, entry["arg"])])
    body = entry.get("body", {}) if method == "post" else None
    before = snapshot(world)
    holes = []
    for who in (None, *entry["refused"]):
        client = APIClient()
        if who is not None:
            client.force_login(world["users"][who])
        response = getattr(client, method)(
            url, body, format="json" if entry["kind"] == "api" else None
        )
        problem = _refusal(entry, who, response)
        if not problem and snapshot(world) != before:
            problem = "changed the state"
        if problem:
            holes.append(f"{who or 'anonymous'}: {method.upper()} {url} {problem}")
    assert not holes, "\n".join(holes)


def test_strangers_cannot_answer_a_question(world):
    """The info task bob's question gave alice: only she answers it."""
    info = request_info(world["task"].pk, actor=world["users"]["bob"], question="which model?")
    before = snapshot(world)
    holes = []
    for who in EVERYBODY_ELSE:
        client = APIClient()
        client.force_login(world["users"][who])
        for name, body, kind in (
            ("inbox:task", None, None),
            ("inbox:complete", {"outcome": "answer", "comment": "a guess"}, None),
            ("api:task-complete", {"outcome": "answer", "comment": "a guess"}, "json"),
        ):
            url = reverse(name, args=[info.pk])
            method = client.get if body is None else client.post
            response = method(url, body, format=kind)
            if response.status_code not in (403, 404) or snapshot(world) != before:
                holes.append(f"{who}: {url} answered {response.status_code}")
    assert not holes, "\n".join(holes)
    assert Task.objects.get(pk=info.pk).completed_at is None


def test_token_authenticated_strangers_are_refused_too(world):
    """The API refuses a stranger whichever way they authenticate."""
    token = Token.objects.create(user=world["users"]["erin"])
    client = APIClient(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get(reverse("api:task-detail", args=[world["task"].pk])).status_code == 404
    response = client.post(reverse("api:task-claim", args=[world["task"].pk]))
    assert response.status_code == 404
    assert (
        client.get(reverse("api:instance-detail", args=[world["instance"].pk])).status_code == 404
    )
    bad = APIClient(HTTP_AUTHORIZATION="Token not-a-key")
    assert bad.get(reverse("api:task-detail", args=[world["task"].pk])).status_code == 401


def test_the_people_who_may_reach_it_do(world):
    """The matrix refuses strangers, not everybody: the holder, a colleague of the group,
    the initiator (her request) and whom the permissions name still get in."""
    users, task = world["users"], world["task"]
    client = APIClient()
    for name in ("bob", "carol"):
        client.force_login(users[name])
        assert client.get(reverse("inbox:task", args=[task.pk])).status_code == 200
        assert client.get(reverse("api:task-detail", args=[task.pk])).status_code == 200
    client.force_login(users["alice"])
    assert SECRET in client.get(reverse("inbox:requests")).content.decode()
    assert (
        client.get(reverse("api:instance-detail", args=[world["instance"].pk])).status_code == 200
    )
    client.force_login(users["bob"])
    assert client.get(reverse("inbox:email-action", args=[world["link_token"]])).status_code == 200
    # grace's permission on this very workflow opens its instances to her.
    assign_perm("orchestrate.view_workflow_instances", users["grace"], world["instance"].definition)
    client.force_login(users["grace"])
    assert (
        client.get(reverse("api:instance-detail", args=[world["instance"].pk])).status_code == 200
    )


def test_a_substitute_within_the_absence_dates_gets_in(world):
    """The lapsed substitute of the matrix is refused because of the dates only."""
    today = timezone.localdate()
    Profile.objects.filter(user=world["users"]["bob"]).update(absent_until=today)
    client = APIClient()
    client.force_login(world["users"]["frank"])
    assert client.get(reverse("inbox:task", args=[world["task"].pk])).status_code == 200


# --- lists leak no foreign rows ---------------------------------------------------------------
LIST_URLS = [
    ("inbox:mine", {}),
    ("inbox:queue", {}),
    ("inbox:done", {}),
    ("inbox:queue", {"workflow": "approval"}),
    ("inbox:queue", {"sla": "on_track"}),
    ("inbox:requests", {}),
    ("inbox:counts", {}),
    ("inbox:profile", {}),
    ("api:task-list", {"scope": "mine"}),
    ("api:task-list", {"scope": "queue"}),
    ("api:task-list", {"scope": "done"}),
    ("api:instance-list", {}),
    ("api:instance-list", {"business_key": ""}),
]


@pytest.mark.parametrize(("name", "params"), LIST_URLS)
def test_lists_show_no_foreign_rows(world, name, params):
    leaks = []
    for who in EVERYBODY_ELSE:
        client = APIClient()
        client.force_login(world["users"][who])
        response = client.get(reverse(name), params)
        html = response.content.decode()
        if response.status_code != 200 or SECRET in html or PRIVATE_VIEW in html:
            leaks.append(f"{who}: {response.status_code}")
    assert not leaks, leaks


@pytest.mark.parametrize("scope", ["inbox:mine", "inbox:queue", "inbox:done"])
def test_a_list_does_not_open_a_foreign_task_beside_it(world, scope):
    for who in TASK_OUTSIDERS:
        client = APIClient()
        client.force_login(world["users"][who])
        response = client.get(reverse(scope), {"task": world["task"].pk})
        assert response.status_code == 200
        assert SECRET not in response.content.decode(), who


def test_alice_sees_her_request_but_not_the_task_nor_bobs_lists(world):
    client = APIClient()
    client.force_login(world["users"]["alice"])
    assert SECRET in client.get(reverse("inbox:requests")).content.decode()
    for name in ("inbox:mine", "inbox:queue", "inbox:done"):
        assert SECRET not in client.get(reverse(name)).content.decode()
    listed = client.get(reverse("api:task-list"), {"scope": "queue"}).json()
    assert listed["count"] == 0


@pytest.mark.parametrize(
    "name", ["reports:overview", "reports:steps", "reports:people", "reports:variants"]
)
def test_reports_are_refused_without_the_permission(world, name):
    for who in ("alice", "bob", "erin", "grace", "staffer", "editor"):
        client = APIClient()
        client.force_login(world["users"][who])
        assert client.get(reverse(name)).status_code == 403, who


def test_saved_views_of_others_are_not_listed(world):
    client = APIClient()
    client.force_login(world["users"]["bob"])
    assert world["view"].name not in client.get(reverse("inbox:mine")).content.decode()


# --- the admin's object pages -------------------------------------------------------------
def _model_of(route):
    """The admin model a route belongs to (`admin/<app>/<model>/...`), or None."""
    match = re.match(r"admin/(\w+)/(\w+)/", route)
    if match is None:
        return None
    try:
        return ContentType.objects.get_by_natural_key(*match.groups()).model_class()
    except ContentType.DoesNotExist:
        return None


def _admin_url(route, world):
    """A concrete URL for an admin route, naming a real row of its model when one exists."""
    model = _model_of(route)
    row = model.objects.order_by("pk").first() if model is not None else None
    if model is not None and model._meta.model_name == "workflowdefinition":
        row = world["instance"].definition  # editor may edit only the other one
    if model is not None and model._meta.model_name == "workflowversion":
        row = world["instance"].version
    values = {
        "object_id": row.pk if row else 1,
        "id": row.pk if row else 1,
        "object_pk": row.pk if row else 1,
        "pk": row.pk if row else 1,
        "user_id": world["users"]["erin"].pk,
        "group_id": GroupFactory(name="staff-room").pk,
        "content_type_id": ContentType.objects.get_for_model(Task).pk,
        "app_label": "orchestrate",
        "url": "nothing-here/",
    }
    route = route.replace("^", "").replace("$", "")
    route = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(values[m.group(1)]), route)
    route = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), route)
    return "/" + route


@pytest.mark.parametrize("who", [None, "bob", "staffer", "editor"])
def test_admin_object_pages_refuse_who_may_not_see_them(world, who):
    """Every admin URL that takes an id: anonymous people and non-staff go to the admin's
    login; staff without the model's permission (or holding it on another workflow only)
    get a 403, a 404 or the admin's "does not exist" redirect, and never the object."""
    client = APIClient()
    if who is not None:
        client.force_login(world["users"][who])
    routes = admin_object_routes()
    assert len(routes) > 40  # the admin's change, history and delete pages at least
    leaks = []
    for name, route in routes:
        url = _admin_url(route, world)
        response = client.get(url)
        location = response.get("Location", "")
        refused = response.status_code in (403, 404) or (
            response.status_code == 302 and location.split("?")[0] != url
        )
        if who is None or who == "bob":
            refused = response.status_code == 302 and location.startswith("/admin/login/")
        if not refused or SECRET in response.content.decode():
            leaks.append(f"{name or route}: {url} answered {response.status_code} {location}")
    assert not leaks, "\n".join(leaks)


def test_the_editor_reaches_the_workflow_they_may_edit(world):
    """The admin refusals above are about the object: on the other workflow, editor's
    pages open."""
    other = Instance.objects.exclude(pk=world["instance"].pk).get().definition
    client = APIClient()
    client.force_login(world["users"]["editor"])
    url = reverse("admin:orchestrate_workflowdefinition_change", args=[other.pk])
    assert client.get(url).status_code == 200
    mine = world["instance"].definition
    mine = reverse("admin:orchestrate_workflowdefinition_change", args=[mine.pk])
    assert client.get(mine).status_code != 200
