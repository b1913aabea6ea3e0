from django.urls import reverse


def test_admin_login_page_renders(client, db):
    response = client.get(reverse("admin:login"))
    assert response.status_code == 200
    assert b"Username" in response.content
