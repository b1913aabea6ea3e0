"""`view_workflow_instances` shows every instance of the definitions it is granted on."""

import pytest
from django.contrib.auth.models import Permission
from guardian.shortcuts import assign_perm

from orchestrate.services.instances import start_instance
from tests.factories import GroupFactory, UserFactory

pytestmark = pytest.mark.django_db

INSTANCES = "/api/v1/instances/"


def started(key, actor):
    instance, _ = start_instance(workflow_key=key, variables={}, actor=actor)
    return instance


@pytest.fixture
def others_instances(purchase_request, leave_request):
    requester = UserFactory()
    return started("purchase_request", requester), started("leave_request", requester)


def listed_ids(client):
    response = client.get(INSTANCES)
    assert response.status_code == 200
    return {row["id"] for row in response.json()["results"]}


def test_without_the_permission_others_instances_are_hidden(client_for, others_instances):
    client = client_for(UserFactory())

    assert listed_ids(client) == set()
    assert client.get(f"{INSTANCES}{others_instances[0].pk}/").status_code == 404


def test_the_object_permission_shows_that_workflows_instances_only(
    client_for, purchase_request, others_instances
):
    purchase, leave = others_instances
    viewer = UserFactory()
    assign_perm("orchestrate.view_workflow_instances", viewer, purchase_request)
    own = started("leave_request", viewer)
    client = client_for(viewer)

    assert listed_ids(client) == {purchase.pk, own.pk}
    assert client.get(f"{INSTANCES}{purchase.pk}/").status_code == 200
    assert client.get(f"{INSTANCES}{leave.pk}/").status_code == 404


def test_the_object_permission_works_through_a_group(
    client_for, purchase_request, others_instances
):
    auditors = GroupFactory()
    assign_perm("orchestrate.view_workflow_instances", auditors, purchase_request)
    viewer = UserFactory()
    viewer.groups.add(auditors)

    assert listed_ids(client_for(viewer)) == {others_instances[0].pk}


def test_the_global_permission_shows_every_instance(client_for, others_instances):
    viewer = UserFactory()
    viewer.user_permissions.add(Permission.objects.get(codename="view_workflow_instances"))

    assert listed_ids(client_for(viewer)) == {i.pk for i in others_instances}
