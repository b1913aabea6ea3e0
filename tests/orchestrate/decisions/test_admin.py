"""The decision table admin: drafts validated on save, published read-only, publish,
and the "Try it" page."""

import pytest
from django.urls import reverse

from orchestrate.models import DecisionTableVersion, VersionStatus
from orchestrate.services.definitions import import_workflow
from tests.orchestrate.decisions.tables import DISCOUNT

pytestmark = pytest.mark.django_db


def try_url(version):
    return reverse("admin:orchestrate_decisiontableversion_try_it", args=[version.pk])


def test_try_it_shows_the_matched_rows_and_the_result(admin_client):
    version = import_workflow(DISCOUNT, publish=True)
    page = admin_client.get(try_url(version))
    assert page.status_code == 200
    response = admin_client.post(
        try_url(version), {"variables": '{"customer": {"tier": "gold"}, "amount": 500}'}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert '<p id="try-matched">2, 3</p>' in html
    assert "&quot;discount&quot;: 0.05" in html


def test_try_it_shows_evaluation_and_input_errors(admin_client):
    version = import_workflow(DISCOUNT)
    response = admin_client.post(try_url(version), {"variables": '{"amount": 5}'})
    assert "input &#x27;tier&#x27;" in response.content.decode()
    response = admin_client.post(try_url(version), {"variables": "[1]"})
    assert "the variables must be a JSON object" in response.content.decode()


def test_a_draft_is_validated_on_save_with_the_place_of_each_problem(admin_client):
    version = import_workflow(DISCOUNT)
    url = reverse("admin:orchestrate_decisiontableversion_change", args=[version.pk])
    data = {
        "table": version.table_id,
        "name": "Customer discount",
        "hit_policy": "first",
        "aggregation": "",
        "inputs": '[{"name": "tier", "expr": "customer.tier"}]',
        "outputs": '["discount"]',
        "priorities": "{}",
        "rules": '[{"when": {"tier": "gold"}, "then": {"discount": 1}}]',
    }
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "rules[0].when.tier: the cell" in response.content.decode()
    data["rules"] = '[{"when": {"tier": "\\"gold\\""}, "then": {"discount": 1}}]'
    response = admin_client.post(url, data)
    assert response.status_code == 302
    version.refresh_from_db()
    assert version.rules == [{"when": {"tier": '"gold"'}, "then": {"discount": 1}}]


def test_the_publish_action_publishes_and_published_versions_are_read_only(admin_client):
    version = import_workflow(DISCOUNT)
    changelist = reverse("admin:orchestrate_decisiontableversion_changelist")
    admin_client.post(changelist, {"action": "publish_selected", "_selected_action": [version.pk]})
    version.refresh_from_db()
    assert version.status == VersionStatus.PUBLISHED
    url = reverse("admin:orchestrate_decisiontableversion_change", args=[version.pk])
    html = admin_client.get(url).content.decode()
    assert 'name="rules"' not in html
    assert try_url(version) in html
    response = admin_client.post(url, {"name": "changed"})
    assert response.status_code == 403
    assert DecisionTableVersion.objects.get(pk=version.pk).name == "Customer discount"


def test_a_new_draft_copies_the_current_version_and_published_ones_cannot_be_deleted(
    admin_client,
):
    published = import_workflow(DISCOUNT, publish=True)
    tables = reverse("admin:orchestrate_decisiontable_changelist")
    action = {"action": "new_draft", "_selected_action": [published.table_id]}
    page = admin_client.post(tables, action, follow=True).content.decode()
    draft = DecisionTableVersion.objects.get(status=VersionStatus.DRAFT)
    assert f"Draft {draft} created." in page
    assert draft.number == 2 and draft.to_spec() == published.to_spec()
    page = admin_client.post(tables, action, follow=True).content.decode()
    assert f"Draft {draft} already open." in page
    assert DecisionTableVersion.objects.count() == 2

    delete = reverse("admin:orchestrate_decisiontableversion_delete", args=[published.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert DecisionTableVersion.objects.filter(pk=published.pk).exists()
    delete = reverse("admin:orchestrate_decisiontableversion_delete", args=[draft.pk])
    admin_client.post(delete, {"post": "yes"})
    assert not DecisionTableVersion.objects.filter(pk=draft.pk).exists()
