"""Who may use the API and which instances they see."""

import pytest
from django.contrib.auth.models import Permission
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from orchestrate.models import Instance, InstanceStatus
from orchestrate.services.instances import start_instance
from tests.factories import GroupFactory, UserFactory

pytestmark = pytest.mark.django_db

INSTANCES = "/api/v1/instances/"


@pytest.fixture
def alices_order(alice, order_workflow):
    instance, _ = start_instance(
        workflow_key="order", variables={"order_id": "A-1"}, business_key="A-1", actor=alice
    )
    return instance


def with_permission(user, codename):
    user.user_permissions.add(Permission.objects.get(codename=codename))
    return user


def test_token_authentication_works(alice, alices_order):
    token = Token.objects.create(user=alice)
    client = APIClient()

    response = client.get(INSTANCES, HTTP_AUTHORIZATION=f"Token {token.key}")

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [alices_order.pk]


def test_token_authentication_starts_as_the_token_owner(alice, order_workflow):
    token = Token.objects.create(user=alice)
    client = APIClient(HTTP_AUTHORIZATION=f"Token {token.key}")

    response = client.post(
        INSTANCES, {"workflow": "order", "variables": {"order_id": "A-9"}}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["started_by"] == "alice"


def test_a_wrong_token_is_401(alices_order):
    client = APIClient(HTTP_AUTHORIZATION="Token not-a-token")

    assert client.get(INSTANCES).status_code == 401


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", INSTANCES),
        ("post", INSTANCES),
        ("get", "{detail}"),
        ("get", "{detail}history/"),
        ("post", "{detail}cancel/"),
        ("post", "/api/v1/messages/"),
    ],
)
def test_anonymous_requests_are_refused(alices_order, method, path):
    url = path.format(detail=f"{INSTANCES}{alices_order.pk}/")

    response = getattr(APIClient(), method)(url, {}, format="json")

    assert response.status_code == 401
    alices_order.refresh_from_db()
    assert alices_order.status == InstanceStatus.RUNNING


@pytest.mark.parametrize(
    ("method", "action"), [("get", ""), ("get", "history/"), ("post", "cancel/")]
)
def test_someone_elses_instance_is_404(alices_order, method, action, client_for):
    bob = client_for(UserFactory(username="bob"))

    response = getattr(bob, method)(f"{INSTANCES}{alices_order.pk}/{action}", format="json")

    assert response.status_code == 404
    alices_order.refresh_from_db()
    assert alices_order.status == InstanceStatus.RUNNING


def test_someone_elses_instance_is_not_in_the_list(alice, alices_order, client_for):
    bob = UserFactory(username="bob")
    bobs, _ = start_instance(workflow_key="order", variables={"order_id": "B-1"}, actor=bob)

    response = client_for(bob).get(INSTANCES)

    assert [row["id"] for row in response.json()["results"]] == [bobs.pk]
    filtered = client_for(bob).get(INSTANCES + "?business_key=A-1").json()
    assert filtered["count"] == 0


def test_someone_elses_business_key_is_409_without_their_instance(alices_order, client_for):
    bob = client_for(UserFactory(username="bob"))

    response = bob.post(
        INSTANCES,
        {"workflow": "order", "variables": {"order_id": "B-1"}, "business_key": "A-1"},
        format="json",
    )

    assert response.status_code == 409
    assert "id" not in response.json()
    assert Instance.objects.count() == 1


def test_superusers_see_and_cancel_every_instance(alices_order, client_for):
    staff = client_for(UserFactory(username="sam", is_staff=True, is_superuser=True))

    assert [row["id"] for row in staff.get(INSTANCES).json()["results"]] == [alices_order.pk]
    assert staff.get(f"{INSTANCES}{alices_order.pk}/history/").status_code == 200
    assert staff.post(f"{INSTANCES}{alices_order.pk}/cancel/").status_code == 200


def test_view_permission_shows_every_instance_but_does_not_allow_cancel(alices_order, client_for):
    auditor = client_for(with_permission(UserFactory(username="maria"), "view_instance"))

    assert [row["id"] for row in auditor.get(INSTANCES).json()["results"]] == [alices_order.pk]
    assert auditor.get(f"{INSTANCES}{alices_order.pk}/").status_code == 200

    response = auditor.post(f"{INSTANCES}{alices_order.pk}/cancel/")

    assert response.status_code == 403
    alices_order.refresh_from_db()
    assert alices_order.status == InstanceStatus.RUNNING


def test_view_permission_through_a_group(alices_order, client_for):
    group = GroupFactory(name="auditors")
    group.permissions.add(Permission.objects.get(codename="view_instance"))
    auditor = UserFactory(username="maria")
    auditor.groups.add(group)

    response = client_for(auditor).get(f"{INSTANCES}{alices_order.pk}/")

    assert response.status_code == 200


def test_view_and_change_permissions_allow_cancel(alices_order, client_for):
    operator = UserFactory(username="olga")
    with_permission(with_permission(operator, "view_instance"), "change_instance")

    response = client_for(operator).post(f"{INSTANCES}{alices_order.pk}/cancel/")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"


def test_change_permission_alone_does_not_reveal_an_instance(alices_order, client_for):
    operator = client_for(with_permission(UserFactory(username="olga"), "change_instance"))

    response = operator.post(f"{INSTANCES}{alices_order.pk}/cancel/")

    assert response.status_code == 404
