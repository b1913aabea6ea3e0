"""DRF's token admin: staff see whose token it is and when it was made, and can make one
for a person."""

import pytest
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db

TOKENS = "/admin/authtoken/tokenproxy/"


def test_the_token_list_names_each_tokens_owner(admin_client, users):
    Token.objects.create(user=users["bob"])
    page = admin_client.get(TOKENS)
    assert page.status_code == 200
    html = page.content.decode()
    assert "bob" in html
    assert "Created" in html


def test_staff_can_make_a_token_for_a_person(admin_client, users):
    response = admin_client.post(f"{TOKENS}add/", {"user": users["carol"].pk})
    assert response.status_code == 302
    assert Token.objects.filter(user=users["carol"]).exists()


def test_a_token_can_be_deleted_in_the_admin(admin_client, users):
    Token.objects.create(user=users["bob"])
    response = admin_client.post(f"{TOKENS}{users['bob'].pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Token.objects.filter(user=users["bob"]).exists()
