"""Every HTML page carries the Content-Security-Policy, and it allows scripts from this
site only: no inline script, no eval. The templates keep to it: no inline <script>, no
inline event handler (the browser test `tests/browser/test_csp.py` proves pages work)."""

import re
from pathlib import Path

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def policy_of(response):
    """The policy as {directive: [sources]}; fails when the header is missing."""
    header = response.get("Content-Security-Policy")
    assert header, f"{response.request['PATH_INFO']} has no Content-Security-Policy"
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: sources for name, *sources in directives}


def assert_html_with_policy(response):
    assert response.status_code in (200, 404, 410, 429), response.status_code
    assert response["Content-Type"].startswith("text/html")
    policy = policy_of(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]


def test_the_policy_forbids_inline_script_eval_and_framing(client):
    policy = policy_of(client.get(reverse("login")))
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]


@pytest.mark.parametrize(
    "path",
    ["/accounts/login/", "/inbox/", "/no/such/page/"],
)
def test_pages_for_anonymous_people_carry_the_policy(client, path):
    response = client.get(path, follow=True)
    assert_html_with_policy(response)


@pytest.mark.parametrize(
    "path",
    [
        "/inbox/",
        "/inbox/queue/",
        "/inbox/done/",
        "/inbox/requests/",
        "/inbox/profile/",
        "/inbox/tasks/{task}/",
        "/inbox/tasks/{task}/?partial=1",
        "/inbox/email-action/not-a-token/",
        "/reports/",
        "/reports/steps/",
        "/reports/people/",
        "/reports/variants/",
        "/api/docs/",
        "/api/v1/instances/",
        "/accounts/logout/",
    ],
)
def test_the_app_pages_carry_the_policy(client, users, task, path):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    path = path.format(task=task.pk)
    if path == "/accounts/logout/":
        response = client.post(path, follow=True)
    else:
        response = client.get(path, HTTP_ACCEPT="text/html")
    assert_html_with_policy(response)


def test_every_admin_list_and_add_page_carries_the_policy(client, task):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    assert_html_with_policy(client.get(reverse("admin:index")))
    for model in admin.site._registry:
        info = model._meta.app_label, model._meta.model_name
        assert_html_with_policy(client.get(reverse("admin:{}_{}_changelist".format(*info))))
        add = client.get(reverse("admin:{}_{}_add".format(*info)))
        if add.status_code != 403:  # read-only models (audit events) have no add page
            assert_html_with_policy(add)


def test_the_admin_pages_with_a_diagram_carry_the_policy(client, task):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    for url in (
        reverse("admin:orchestrate_instance_change", args=[task.instance_id]),
        reverse("admin:orchestrate_workflowversion_change", args=[task.instance.version_id]),
    ):
        response = client.get(url)
        assert_html_with_policy(response)
        assert '<pre class="mermaid">' in response.content.decode()


# <script> with anything but a src (a JSON data block is no script), and on...= attributes.
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.I)
JS_URL = re.compile(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", re.I)


def test_no_template_has_inline_script_or_event_handlers():
    offences = []
    for template in sorted(TEMPLATES.rglob("*.html")):
        text = template.read_text()
        for pattern in (INLINE_SCRIPT, INLINE_HANDLER, JS_URL):
            offences += [
                f"{template.relative_to(TEMPLATES)}: {m[0]}" for m in pattern.finditer(text)
            ]
    assert offences == []


@pytest.mark.parametrize(
    "html",
    [
        "<script>alert(1)</script>",
        '<button onclick="go()">',
        '<a href="javascript:go()">',
        "<script type='module'>",
    ],
)
def test_the_template_check_finds_inline_script(html):
    assert any(p.search(html) for p in (INLINE_SCRIPT, INLINE_HANDLER, JS_URL))
