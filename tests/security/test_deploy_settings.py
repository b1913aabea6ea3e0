"""`DJANGO_ENV=production` is a deployment that passes Django's checklist: HTTPS only,
HSTS, secure cookies; it refuses to start with the development key, with DEBUG or without
allowed hosts. Development (`make run`, the tests) keeps working over plain HTTP.

Settings are read once per process, so production runs in a subprocess."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Asks the production site for its login page, as a browser would: over plain HTTP, over
# HTTPS, and through one proxy that says the client used HTTPS.
PROBE = """
import django
django.setup()
from django.test import Client
for name, kwargs in [
    ("http", {}),
    ("https", {"secure": True}),
    ("proxied", {"HTTP_X_FORWARDED_PROTO": "https", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}),
]:
    response = Client().get("/accounts/login/", HTTP_HOST="orchestrate.example.com", **kwargs)
    print(name, response.status_code, response.get("Location", "-"))
    print(name, "hsts", response.get("Strict-Transport-Security", "-"))
    cookie = response.cookies.get("csrftoken")
    if cookie is not None:
        flags = bool(cookie["secure"]), bool(cookie["httponly"]), cookie["samesite"]
        print(name, "csrftoken", *flags)
"""


def run(*args, **environment):
    """Runs python with `args` in the project under the given environment (production's
    variables dropped first, so the machine's own do not leak in); returns the result."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DJANGO_", "ORCHESTRATE_TRUSTED"))
    }
    env.update(environment)
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def production(**extra):
    return {
        "DJANGO_ENV": "production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "orchestrate.example.com",
        "DJANGO_CSRF_TRUSTED_ORIGINS": "https://orchestrate.example.com",
        **extra,
    }


def test_production_passes_the_deployment_checklist_without_a_warning():
    result = run("manage.py", "check", "--deploy", "--fail-level", "WARNING", **production())
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNING" not in result.stderr.upper()


def test_development_is_what_the_checklist_warns_about():
    """The check is not vacuous: the development defaults fail it."""
    result = run("manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W018"):
        assert warning in result.stderr


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"DJANGO_SECRET_KEY": None}, "DJANGO_ENV=production needs DJANGO_SECRET_KEY"),
        (
            {"DJANGO_SECRET_KEY": "dev-only-insecure-key-change-me-in-production-0123456789abcdef"},
            "DJANGO_ENV=production needs DJANGO_SECRET_KEY",
        ),
        ({"DJANGO_DEBUG": "true"}, "DJANGO_ENV=production refuses DJANGO_DEBUG=true."),
        ({"DJANGO_ALLOWED_HOSTS": None}, "DJANGO_ENV=production needs DJANGO_ALLOWED_HOSTS"),
        ({"DJANGO_ENV": "prod"}, "DJANGO_ENV must be 'development' or 'production', not 'prod'."),
    ],
)
def test_production_refuses_to_start_without_what_it_needs(change, message):
    environment = production()
    for name, value in change.items():
        if value is None:
            del environment[name]
        else:
            environment[name] = value
    result = run("manage.py", "check", **environment)
    assert result.returncode != 0
    assert message in result.stderr


def test_production_answers_only_over_https_with_hsts_and_secure_cookies():
    result = run("-c", PROBE, **production(DJANGO_SETTINGS_MODULE="orchestrate.settings"))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "http 301 https://orchestrate.example.com/accounts/login/" in lines
    assert "https 200 -" in lines
    assert "https hsts max-age=31536000; includeSubDomains; preload" in lines
    assert "https csrftoken True True Lax" in lines
    # Without ORCHESTRATE_TRUSTED_PROXIES nobody's X-Forwarded-Proto is believed.
    assert "proxied 301 https://orchestrate.example.com/accounts/login/" in lines


def test_behind_a_proxy_its_https_header_is_believed():
    environment = production(
        DJANGO_SETTINGS_MODULE="orchestrate.settings", ORCHESTRATE_TRUSTED_PROXIES="1"
    )
    result = run("-c", PROBE, **environment)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "proxied 200 -" in lines
    assert "proxied hsts max-age=31536000; includeSubDomains; preload" in lines
    assert "http 301 https://orchestrate.example.com/accounts/login/" in lines


@pytest.mark.django_db
def test_development_works_over_plain_http(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response
    assert not response.cookies["csrftoken"]["secure"]
    assert response.cookies["csrftoken"]["httponly"]
    # The headers that cost nothing over HTTP are on everywhere.
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
