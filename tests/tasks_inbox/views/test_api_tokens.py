"""A person's API token on the profile page: create it, see the key once, regenerate and
revoke it; the key works against the API until then."""

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from .conftest import messages_of

pytestmark = pytest.mark.django_db

PROFILE = reverse("inbox:profile")


def api_status(key):
    """What /api/v1/tasks/ answers to this key."""
    return Client().get("/api/v1/tasks/", HTTP_AUTHORIZATION=f"Token {key}").status_code


def test_a_person_without_a_token_can_create_one_and_sees_it_once(login, users):
    client = login("bob")
    page = client.get(PROFILE).content.decode()
    assert "You have no API token." in page
    assert "Create token" in page

    response = client.post(PROFILE, {"token": "issue"})
    assert response.status_code == 200
    key = Token.objects.get(user=users["bob"]).key
    assert key in response.content.decode()
    assert "it is not shown again" in response.content.decode()
    assert api_status(key) == 200

    again = client.get(PROFILE).content.decode()
    assert key not in again
    assert "You have an API token, created" in again
    assert "Regenerate token" in again and "Revoke token" in again


def test_regenerating_replaces_the_key(login, users):
    old = Token.objects.create(user=users["bob"]).key
    response = login("bob").post(PROFILE, {"token": "issue"})
    new = Token.objects.get(user=users["bob"]).key
    assert new != old
    assert new in response.content.decode()
    assert api_status(old) == 401
    assert api_status(new) == 200


def test_revoking_stops_the_key_at_once(login, users):
    key = Token.objects.create(user=users["bob"]).key
    response = login("bob").post(PROFILE, {"token": "revoke"}, follow=True)
    assert messages_of(response) == ["Your API token is revoked; its key no longer works."]
    assert not Token.objects.filter(user=users["bob"]).exists()
    assert api_status(key) == 401
    assert "You have no API token." in response.content.decode()


def test_one_person_cannot_touch_another_persons_token(login, users):
    carols = Token.objects.create(user=users["carol"]).key
    client = login("bob")
    client.post(PROFILE, {"token": "revoke"})
    client.post(PROFILE, {"token": "issue"})
    assert Token.objects.get(user=users["carol"]).key == carols
    assert carols not in client.get(PROFILE).content.decode()


def test_token_changes_need_the_csrf_token(users):
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["bob"])
    assert client.post(PROFILE, {"token": "issue"}).status_code == 403
    assert not Token.objects.filter(user=users["bob"]).exists()


def test_the_away_form_still_saves_without_touching_the_token(login, users):
    key = Token.objects.create(user=users["bob"]).key
    login("bob").post(PROFILE, {"absent_from": "", "absent_until": "", "substitute": ""})
    assert Token.objects.get(user=users["bob"]).key == key
