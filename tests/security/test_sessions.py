"""Sessions: a new session key on log-in (no session fixation), log-out ends the session
on the server (a copied cookie is worthless afterwards), log-out only by POST, and a
deactivated person is out at once, in the browser and through the API."""

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db

PASSWORD = "secret-pass-123"  # tests.factories.UserFactory


def log_in(client, username):
    response = client.post("/accounts/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()
    return client.cookies["sessionid"].value


def with_cookie(key):
    """Another browser that presents the session cookie `key` (a stolen copy)."""
    other = Client()
    other.cookies["sessionid"] = key
    return other


def test_logging_in_gives_a_new_session_key(client, users):
    # An attacker who planted a session cookie before the log-in gains nothing by it.
    client.get("/accounts/login/")
    session = client.session
    session["planted"] = True
    session.save()
    planted = session.session_key
    assert client.cookies["sessionid"].value == planted

    key = log_in(client, "bob")
    assert key != planted
    assert not Session.objects.filter(session_key=planted).exists()
    assert with_cookie(planted).get("/inbox/").status_code == 302
    assert with_cookie(key).get("/inbox/").status_code == 200


def test_logging_out_ends_the_session_on_the_server(client, users):
    key = log_in(client, "bob")
    copy = with_cookie(key)
    assert copy.get("/inbox/").status_code == 200

    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert not Session.objects.filter(session_key=key).exists()
    response = copy.get("/inbox/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_logging_out_by_get_is_refused(client, users):
    log_in(client, "bob")
    assert client.get("/accounts/logout/").status_code == 405
    assert client.get("/inbox/").status_code == 200


def test_the_log_out_button_is_a_post_form_with_a_csrf_token(client, users):
    log_in(client, "bob")
    page = client.get("/inbox/").content.decode()
    form = page[page.index('<form method="post" action="/accounts/logout/">') :]
    form = form[: form.index("</form>")]
    assert 'name="csrfmiddlewaretoken"' in form
    assert '<button type="submit" class="btn-header">Log out</button>' in form
    assert 'href="/accounts/logout/' not in page


def test_a_deactivated_person_is_out_at_once(client, users):
    log_in(client, "bob")
    assert client.get("/inbox/").status_code == 200
    token = Token.objects.create(user=users["bob"])
    api = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.get("/api/v1/tasks/").status_code == 200

    users["bob"].is_active = False
    users["bob"].save(update_fields=["is_active"])

    response = client.get("/inbox/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert client.get("/api/v1/tasks/").status_code in (401, 403)
    response = api.get("/api/v1/tasks/")
    assert response.status_code == 401
    assert response.json() == {"detail": "User inactive or deleted."}
    # And no new session either.
    refused = Client().post("/accounts/login/", {"username": "bob", "password": PASSWORD})
    assert refused.status_code == 200
    assert "_auth_user_id" not in refused.wsgi_request.session
