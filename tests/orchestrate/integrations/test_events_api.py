"""`POST /api/v1/events/`: CloudEvents start subscribing workflows and reach waiting
message steps, once per (source, id)."""

import json

import pytest
from guardian.shortcuts import assign_perm

from orchestrate.models import InboundEvent, Instance, InstanceStatus
from orchestrate.services.definitions import import_workflow
from orchestrate.services.instances import start_instance
from tests.factories import UserFactory, waiting_workflow

from .conftest import client_for

pytestmark = pytest.mark.django_db

EVENTS = "/api/v1/events/"
CREATED = "com.example.order.created"


def order_document(**start_on):
    return {
        "format": 1,
        "key": "order_intake",
        "name": "Order intake",
        "variables": {
            "amount": {"type": "number", "required": True},
            "supplier": {"type": "string"},
        },
        "start_on": {
            "event": CREATED,
            "business_key": "event.subject",
            "variables": {"amount": "event.data.amount", "supplier": "event.data.supplier"},
            **start_on,
        },
        "steps": [
            {"key": "start", "type": "start"},
            {"key": "review", "type": "timer", "duration": "P1D"},
            {"key": "end", "type": "end"},
        ],
        "transitions": [{"from": "start", "to": "review"}, {"from": "review", "to": "end"}],
    }


@pytest.fixture
def order_intake():
    return import_workflow(order_document(), publish=True)


def event(event_id="evt-1", **attributes):
    return {
        "specversion": "1.0",
        "id": event_id,
        "source": "https://shop.example.com/orders",
        "type": CREATED,
        "subject": "PO-1042",
        "time": "2026-11-25T12:00:00Z",
        "datacontenttype": "application/json",
        "data": {"amount": 1250, "supplier": "ACME"},
        **attributes,
    }


def post(api, body, content_type="application/cloudevents+json"):
    return api.generic("POST", EVENTS, json.dumps(body), content_type=content_type)


def test_an_event_starts_the_subscribing_workflow_with_its_business_key_and_variables(
    api, poster, order_intake
):
    response = post(api, event())

    assert response.status_code == 202
    instance = Instance.objects.get(definition__key="order_intake")
    assert response.json() == {
        "status": "accepted",
        "source": "https://shop.example.com/orders",
        "id": "evt-1",
        "started": [{"workflow": "order_intake", "instance": instance.pk, "created": True}],
        "delivered_to": [],
    }
    assert instance.business_key == "PO-1042"
    assert instance.variables == {"amount": 1250, "supplier": "ACME"}
    assert instance.started_by == poster
    assert instance.version == order_intake
    record = InboundEvent.objects.get()
    assert (record.source, record.event_id, record.type) == (
        "https://shop.example.com/orders",
        "evt-1",
        CREATED,
    )
    assert record.outcome["started"][0]["instance"] == instance.pk


def test_plain_json_is_accepted_too(api, order_intake):
    response = post(api, event(), content_type="application/json")

    assert response.status_code == 202


def test_other_content_types_are_refused(api, order_intake):
    response = api.generic("POST", EVENTS, "id=1", content_type="text/plain")

    assert response.status_code == 415
    assert not InboundEvent.objects.exists()


def test_the_same_event_again_is_a_duplicate_and_starts_nothing(api, order_intake):
    assert post(api, event()).status_code == 202

    again = post(api, event(data={"amount": 1, "supplier": "other"}, subject="PO-9"))

    assert again.status_code == 200
    assert again.json()["status"] == "duplicate"
    assert again.json()["started"] == []
    assert Instance.objects.count() == 1
    assert InboundEvent.objects.count() == 1


def test_the_same_id_from_another_source_is_another_event(api, order_intake):
    post(api, event())

    response = post(api, event(source="https://other.example.com", subject="PO-7"))

    assert response.status_code == 202
    assert Instance.objects.count() == 2


def test_a_second_event_with_the_same_business_key_finds_the_instance(api, order_intake):
    first = post(api, event("evt-1")).json()["started"][0]["instance"]

    response = post(api, event("evt-2"))

    assert response.status_code == 202
    assert response.json()["started"] == [
        {"workflow": "order_intake", "instance": first, "created": False}
    ]


def test_only_the_current_published_version_starts(api, order_intake):
    document = order_document()
    del document["start_on"]
    document["variables"]["amount"]["required"] = False
    import_workflow(document, publish=True)  # version 2 no longer starts on the event
    import_workflow(order_document(event="com.example.order.created.v3"))  # a draft

    response = post(api, event())

    assert response.status_code == 202
    assert response.json()["started"] == []
    assert not Instance.objects.exists()
    draft_event = post(api, event("evt-3", type="com.example.order.created.v3"))
    assert draft_event.json()["started"] == []


def test_an_event_reaches_the_message_step_waiting_for_its_type_and_subject(api):
    waiting_workflow("pay", wait_name="com.example.order.paid")
    waiting, _ = start_instance(workflow_key="pay", variables={"ref": "PO-1042"})
    other, _ = start_instance(workflow_key="pay", variables={"ref": "PO-7"})

    response = post(
        api, event(type="com.example.order.paid", data={"paid": 1250}, subject="PO-1042")
    )

    assert response.status_code == 202
    assert response.json()["delivered_to"] == [waiting.pk]
    waiting.refresh_from_db()
    other.refresh_from_db()
    assert waiting.status == InstanceStatus.COMPLETED
    assert waiting.variables["paid"] == 1250
    assert other.status == InstanceStatus.RUNNING


def test_the_correlation_extension_wins_over_the_subject(api):
    waiting_workflow("pay", wait_name="com.example.order.paid")
    waiting, _ = start_instance(workflow_key="pay", variables={"ref": "42"})

    response = post(api, event(type="com.example.order.paid", subject="not-this", correlation=42))

    assert response.json()["delivered_to"] == [waiting.pk]


def test_an_event_nobody_waits_for_is_recorded_and_does_nothing(api):
    response = post(api, event(type="com.example.nothing"))

    assert response.status_code == 202
    assert response.json()["started"] == []
    assert response.json()["delivered_to"] == []
    assert InboundEvent.objects.filter(type="com.example.nothing").exists()


# --- errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field", "fragment"),
    [
        ({"specversion": "0.3"}, "specversion", "not a valid choice"),
        ({"id": ""}, "id", "may not be blank"),
        ({"source": None}, "source", "may not be null"),
        ({"time": "yesterday"}, "time", "Datetime has wrong format"),
        ({"datacontenttype": "application/xml"}, "datacontenttype", "Only JSON data"),
        ({"data_base64": "AAAA"}, "data_base64", "Binary data is not read"),
        ({"Bad_Name": "x"}, "Bad_Name", "lowercase letters and digits"),
        ({"tags": ["a"]}, "tags", "strings, integers or booleans"),
        ({"data": {"note": "a\x00b"}}, "data", "NUL characters"),
        ({"data": ["\ud800"]}, "data", "lone surrogates"),
    ],
)
def test_a_malformed_event_is_a_400_with_the_attribute_in_error(
    api, order_intake, change, field, fragment
):
    response = post(api, event(**change))

    assert response.status_code == 400
    assert fragment in " ".join(response.json()[field])
    assert not InboundEvent.objects.exists()


def test_a_missing_required_attribute_is_named(api):
    body = event()
    del body["type"]

    response = post(api, body)

    assert response.status_code == 400
    assert response.json()["type"] == ["This field is required."]


def test_a_batch_is_refused(api):
    response = post(api, [event()])

    assert response.status_code == 400
    assert "one event" in response.json()["non_field_errors"][0]


def test_a_failing_expression_refuses_the_event_and_records_nothing(api, order_intake):
    response = post(api, event(data={"supplier": "ACME"}))  # no amount

    assert response.status_code == 422
    body = response.json()
    assert body["errors"] == [
        {
            "workflow": "order_intake",
            "path": "start_on.variables.amount",
            "message": "'event.data.amount': no field 'amount' (test it with has() first)",
        }
    ]
    assert not InboundEvent.objects.exists()
    assert not Instance.objects.exists()
    # Nothing was recorded, so the sender may send the fixed event with the same id.
    assert post(api, event()).status_code == 202


def test_variables_of_the_wrong_type_refuse_the_event(api, order_intake):
    response = post(api, event(data={"amount": "a lot", "supplier": "ACME"}))

    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "start_on.variables.amount"
    assert "number" in response.json()["errors"][0]["message"]
    assert not InboundEvent.objects.exists()


def test_a_refused_start_also_undoes_the_message_deliveries(api):
    waiting_workflow("pay", wait_name=CREATED)
    waiting, _ = start_instance(workflow_key="pay", variables={"ref": "PO-1042"})
    import_workflow(order_document(), publish=True)

    response = post(api, event(data={}))

    assert response.status_code == 422
    waiting.refresh_from_db()
    assert waiting.status == InstanceStatus.RUNNING


# --- permissions ----------------------------------------------------------------------


def test_posting_events_takes_the_add_inboundevent_permission(order_intake):
    response = post(client_for(UserFactory(username="nobody")), event())

    assert response.status_code == 403
    assert "add_inboundevent" in response.json()["detail"]
    assert not InboundEvent.objects.exists()


def test_anonymous_posts_are_refused(client, order_intake):
    response = client.post(EVENTS, event(), content_type="application/json")

    assert response.status_code in (401, 403)
    assert not Instance.objects.exists()


def test_a_restricted_workflow_needs_its_start_permission(api, poster, order_intake):
    assign_perm(
        "orchestrate.start_workflow", UserFactory(username="clerk"), order_intake.definition
    )

    refused = post(api, event())

    assert refused.status_code == 403
    assert "order_intake" in refused.json()["detail"]
    assert not InboundEvent.objects.exists()
    assign_perm("orchestrate.start_workflow", poster, order_intake.definition)
    assert post(api, event()).status_code == 202


def test_long_ids_and_sources_are_taken(api):
    long = event("é" * 500, source="ü" * 500, type="com.example.nothing")

    assert post(api, long).status_code == 202
    assert post(api, long).json()["status"] == "duplicate"
