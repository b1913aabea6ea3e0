"""The fake ERP that the purchase_request demo workflow calls."""

import re
from json import dumps
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from orchestrate.engine import actions
from orchestrate.formats.yaml_io import load_document
from orchestrate.models import InstanceStatus
from orchestrate.services.instances import start_instance
from tests.factories import UserFactory, version_from_spec

pytestmark = pytest.mark.django_db

URL = "/api/v1/demo/purchase-orders/"
ORDER = {"item": "Laptop", "amount": 800}


def test_the_same_idempotency_key_gives_the_same_po_number():
    client = APIClient()
    key = "3f2a9c1e-0b7d-4a55-9e61-2c8d4f0a1b23"

    first = client.post(URL, ORDER, format="json", HTTP_IDEMPOTENCY_KEY=key)
    again = client.post(URL, ORDER, format="json", HTTP_IDEMPOTENCY_KEY=key)
    other = client.post(URL, ORDER, format="json", HTTP_IDEMPOTENCY_KEY="9" * 36)

    assert first.status_code == 201
    assert first.json() == {"po_number": "PO-3F2A9C1E", "item": "Laptop", "amount": 800}
    assert again.json() == first.json()
    assert other.json()["po_number"] == "PO-99999999"


def test_without_a_key_the_po_number_is_random():
    client = APIClient()

    numbers = {client.post(URL, ORDER, format="json").json()["po_number"] for _ in range(3)}

    assert len(numbers) == 3
    assert all(re.fullmatch(r"PO-[0-9A-F]{8}", n) for n in numbers)


def test_a_logged_in_session_needs_no_csrf_token():
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(UserFactory(username="alice"))

    response = client.post(URL, ORDER, format="json", HTTP_IDEMPOTENCY_KEY="abcdef12")

    assert response.status_code == 201
    assert response.json()["po_number"] == "PO-ABCDEF12"


@pytest.mark.parametrize(
    "body",
    [
        {"item": "Laptop"},
        {"amount": 1},
        {"item": "Laptop", "amount": "lots"},
        {"item": "Laptop", "amount": True},
    ],
)
def test_an_incomplete_order_is_400(body):
    assert APIClient().post(URL, body, format="json").status_code == 400


class _Answer:
    """Enough of a `requests.Response` for the http_request action."""

    def __init__(self, response):
        self.status_code = response.status_code
        self.text = response.content.decode()
        self._json = response.json()

    def json(self):
        return self._json


def test_the_purchase_request_workflow_gets_its_po_number_from_the_demo(broker, monkeypatch):
    # The project's loader: PyYAML alone reads the key `on` as the boolean True.
    version_from_spec(
        load_document((settings.BASE_DIR / "workflows/purchase_request.yaml").read_text())
    )
    calls = []

    def through_django(method, url, *, headers, json=None, timeout=None):
        calls.append(headers["Idempotency-Key"])
        response = APIClient().generic(
            method,
            urlsplit(url).path,
            data=dumps(json),
            content_type="application/json",
            headers=headers,
        )
        return _Answer(response)

    monkeypatch.setattr(actions.requests, "request", through_django)
    alice = UserFactory(username="alice")

    instance, _ = start_instance(
        workflow_key="purchase_request", variables={"item": "Mouse", "amount": 25}, actor=alice
    )
    broker.drain()

    instance.refresh_from_db()
    assert instance.status == InstanceStatus.COMPLETED
    assert instance.outcome == "approved"
    run = instance.step_runs.get(step_key="create_purchase_order")
    assert calls == [str(run.idempotency_key)]
    assert instance.variables["purchase_order"] == {
        "status": 201,
        "body": {
            "po_number": f"PO-{str(run.idempotency_key)[:8].upper()}",
            "item": "Mouse",
            "amount": 25,
        },
    }
