"""Who may start a workflow through the API: open by default, restricted once named."""

import pytest
from django.contrib.auth.models import Permission
from guardian.shortcuts import assign_perm

from orchestrate.access import may_start
from orchestrate.models import Instance
from tests.factories import GroupFactory, UserFactory

pytestmark = pytest.mark.django_db

INSTANCES = "/api/v1/instances/"


def start(client, key):
    return client.post(INSTANCES, {"workflow": key, "variables": {}}, format="json")


def test_an_open_workflow_is_started_by_any_authenticated_user(client_for, purchase_request):
    response = start(client_for(UserFactory()), "purchase_request")

    assert response.status_code == 201


def test_a_workflow_restricted_to_a_group_is_started_by_its_members(client_for, purchase_request):
    buyers = GroupFactory(name="buyers")
    assign_perm("orchestrate.start_workflow", buyers, purchase_request)
    member = UserFactory()
    member.groups.add(buyers)

    response = start(client_for(member), "purchase_request")

    assert response.status_code == 201
    assert Instance.objects.get().started_by == member


def test_a_non_member_is_refused_with_403_and_nothing_is_written(client_for, purchase_request):
    assign_perm("orchestrate.start_workflow", GroupFactory(), purchase_request)

    response = start(client_for(UserFactory()), "purchase_request")

    assert response.status_code == 403
    assert response.json() == {"detail": "You may not start 'purchase_request'."}
    assert not Instance.objects.exists()


def test_a_restriction_stays_on_its_own_definition(client_for, purchase_request, leave_request):
    assign_perm("orchestrate.start_workflow", UserFactory(), purchase_request)

    assert start(client_for(UserFactory()), "leave_request").status_code == 201


def test_the_global_permission_starts_a_restricted_workflow(client_for, purchase_request):
    assign_perm("orchestrate.start_workflow", UserFactory(), purchase_request)
    user = UserFactory()
    user.user_permissions.add(Permission.objects.get(codename="start_workflow"))

    assert start(client_for(user), "purchase_request").status_code == 201


def test_an_unknown_workflow_is_still_a_400(client_for):
    response = start(client_for(UserFactory()), "nope")

    assert response.status_code == 400
    assert "workflow" in response.json()


@pytest.mark.parametrize(
    ("who", "allowed"),
    [("superuser", True), ("holder", True), ("member", True), ("other", False)],
)
def test_may_start_on_a_restricted_definition(purchase_request, who, allowed):
    group = GroupFactory()
    holder = UserFactory()
    assign_perm("orchestrate.start_workflow", holder, purchase_request)
    assign_perm("orchestrate.start_workflow", group, purchase_request)
    member = UserFactory()
    member.groups.add(group)
    users = {
        "superuser": UserFactory(is_superuser=True),
        "holder": holder,
        "member": member,
        "other": UserFactory(),
    }

    assert may_start(users[who], purchase_request) is allowed
