"""Webhooks in the admin: the secret is write-only, deliveries are read-only with a
"Retry now" action."""

import pytest

from orchestrate.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from orchestrate.services.instances import start_instance
from tests.factories import edges, workflow

from .conftest import SECRET

pytestmark = pytest.mark.django_db

SUBSCRIPTIONS = "/admin/orchestrate/webhooksubscription/"
DELIVERIES = "/admin/orchestrate/webhookdelivery/"


def form_data(**changes):
    return {
        "name": "ERP",
        "url": "https://erp.example.com/hooks",
        "event_types": ["instance.started", "task.escalated"],
        "workflow": "",
        "active": "on",
        "secret": "a-long-enough-secret",
        **changes,
    }


def test_a_subscription_is_made_in_the_admin(root_client):
    response = root_client.post(f"{SUBSCRIPTIONS}add/", form_data())

    assert response.status_code == 302
    subscription = WebhookSubscription.objects.get()
    assert subscription.event_types == ["instance.started", "task.escalated"]
    assert subscription.signing_secret() == b"a-long-enough-secret"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"secret": ""}, "secret", "Give a secret"),
        ({"secret": "short"}, "secret", "at least 16 characters"),
        ({"url": "ftp://erp.example.com/x"}, "url", "Enter a valid URL"),
        ({"event_types": ["step.entered"]}, "event_types", "Select a valid choice"),
    ],
)
def test_a_wrong_subscription_is_refused_with_a_message(root_client, changes, field, message):
    response = root_client.post(f"{SUBSCRIPTIONS}add/", form_data(**changes))

    assert response.status_code == 200
    assert message in " ".join(response.context["adminform"].form.errors[field])
    assert not WebhookSubscription.objects.exists()


def test_the_secret_is_never_shown_and_an_empty_field_keeps_it(root_client):
    subscription = WebhookSubscription.objects.create(
        name="ERP", url="https://erp.example.com/hooks", secret=SECRET, event_types=[]
    )

    page = root_client.get(f"{SUBSCRIPTIONS}{subscription.pk}/change/")
    listing = root_client.get(SUBSCRIPTIONS)
    saved = root_client.post(
        f"{SUBSCRIPTIONS}{subscription.pk}/change/", form_data(name="ERP 2", secret="")
    )

    assert SECRET not in page.content.decode()
    assert SECRET not in listing.content.decode()
    assert saved.status_code == 302
    subscription.refresh_from_db()
    assert subscription.name == "ERP 2"
    assert subscription.signing_secret() == SECRET.encode()
    assert subscription.secret not in page.content.decode()  # nor its encrypted form


def test_deliveries_are_listed_and_retried_now(root_client, broker):
    subscription = WebhookSubscription.objects.create(
        name="ERP",
        url="http://127.0.0.1:9/hooks",
        secret=SECRET,
        event_types=["instance.started"],
    )
    workflow(
        "quick",
        [{"key": "start", "type": "start"}, {"key": "end", "type": "end"}],
        edges("start>end"),
    )
    start_instance(workflow_key="quick")
    delivery = WebhookDelivery.objects.get(subscription=subscription)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.FAILED,
        attempts=8,
        last_status_code=502,
        last_response="<b>bad gateway</b>",
    )
    broker.messages.clear()

    listing = root_client.get(DELIVERIES)
    page = root_client.get(f"{DELIVERIES}{delivery.pk}/change/")
    response = root_client.post(
        DELIVERIES, {"action": "retry_now", "_selected_action": [delivery.pk]}, follow=True
    )

    row = listing.content.decode().split('class="field-created_at')[1].split("</tr>")[0]
    assert "instance.started" in row
    assert '<td class="field-status">Failed</td>' in row
    assert '<td class="field-last_status_code">502</td>' in row
    assert "&lt;b&gt;bad gateway&lt;/b&gt;" in page.content.decode()
    assert "1 delivery sent again." in response.content.decode()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert broker.messages == [("orchestrate.deliver_webhook", delivery.pk)]
    assert root_client.get(f"{DELIVERIES}add/").status_code == 403
