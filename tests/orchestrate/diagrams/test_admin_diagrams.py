"""The admin's version and instance pages carry a Mermaid diagram."""

import pytest
from django.urls import reverse

from orchestrate.services.instances import start_instance
from tests.factories import waiting_workflow

pytestmark = pytest.mark.django_db


@pytest.fixture
def instance(broker):
    waiting_workflow(wait_name='Wait for "<b>go</b>"')
    return start_instance(workflow_key="waiting", variables={"ref": "ACME-7"})[0]


def test_the_version_page_shows_the_diagram(root_client, instance):
    url = reverse("admin:orchestrate_workflowversion_change", args=[instance.version.pk])
    html = root_client.get(url).content.decode()
    assert '<pre class="mermaid">flowchart TD' in html
    assert "vendor/mermaid/mermaid.min.js" in html
    assert "class s1 active" not in html


def test_the_instance_page_shows_its_progress(root_client, instance):
    url = reverse("admin:orchestrate_instance_change", args=[instance.pk])
    html = root_client.get(url).content.decode()
    assert '<pre class="mermaid">flowchart TD' in html
    assert "class s1 active" in html
    assert "s1&gt;&quot;Wait for #quot;#lt;b#gt;go#lt;/b#gt;#quot;&quot;]" in html
    assert "<b>go</b>" not in html
