"""The admin's "Object permissions" page of a definition (django-guardian)."""

import pytest
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_the_object_permissions_page_lists_the_workflow_permissions(
    admin_client_, purchase_request
):
    url = reverse("admin:orchestrate_workflowdefinition_permissions", args=[purchase_request.pk])

    response = admin_client_.get(url)

    assert response.status_code == 200
    content = response.content.decode()
    assert "Can start instances of this workflow" in content
    assert "Can see every instance of this workflow" in content


def test_granting_start_to_a_user_through_the_page(admin_client_, purchase_request):
    buyer = UserFactory(username="buyer")
    url = reverse(
        "admin:orchestrate_workflowdefinition_permissions_manage_user",
        args=[purchase_request.pk, buyer.pk],
    )

    response = admin_client_.post(url, {"permissions": ["start_workflow"]})

    assert response.status_code == 302
    assert buyer.has_perm("orchestrate.start_workflow", purchase_request)
