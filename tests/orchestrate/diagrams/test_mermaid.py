"""The Mermaid text of a version, and of an instance's progress on it."""

import pytest

from orchestrate.diagrams import mermaid_for
from orchestrate.services.instances import start_instance
from tests.factories import edges, workflow

pytestmark = pytest.mark.django_db


@pytest.fixture
def review():
    return workflow(
        "review",
        [
            {"key": "start", "type": "start"},
            {"key": "check", "type": "automated", "action": "noop", "name": 'Say "hi" <script>'},
            {"key": "route", "type": "exclusive"},
            {"key": "approve", "type": "human", "name": "Approve"},
            {"key": "end", "type": "end"},
        ],
        edges(
            "start>check",
            "check>route:ok",
            {
                "from": "route",
                "to": "approve",
                "when": "amount > 1000 && region == 'north-east' && urgent",
            },
            {"from": "route", "to": "end", "default": True},
            {"from": "approve", "to": "end", "name": "signed"},
        ),
    )


@pytest.fixture
def waiting(broker):
    version = workflow(
        "waiting",
        [
            {"key": "start", "type": "start"},
            {"key": "wait", "type": "message", "name": "go", "correlate": "ref"},
            {"key": "end", "type": "end"},
        ],
        edges("start>wait", "wait>end"),
        variables={"ref": {"type": "string"}},
    )
    instance = start_instance(workflow_key="waiting", variables={"ref": "ACME-7"})[0]
    return version, instance


def test_steps_are_drawn_by_type_with_positional_ids(review):
    lines = mermaid_for(review).splitlines()
    assert lines[0] == "flowchart TD"
    assert '    s0(("start"))' in lines
    assert '    s2{"route"}' in lines
    assert '    s3("Approve")' in lines
    assert '    s4((("end")))' in lines


def test_names_are_escaped(review):
    text = mermaid_for(review)
    assert '    s1["Say #quot;hi#quot; #lt;script#gt;"]' in text.splitlines()
    assert "<script>" not in text


def test_edges_are_labelled_by_outcome_condition_default_or_name(review):
    lines = mermaid_for(review).splitlines()
    assert "    s0 --> s1" in lines
    assert '    s1 -->|"ok"| s2' in lines
    assert "    s2 -->|\"amount #gt; 1000 && region == 'north-east'…\"| s3" in lines
    assert '    s2 -->|"default"| s4' in lines
    assert '    s3 -->|"signed"| s4' in lines


def test_a_version_alone_has_no_progress(review):
    text = mermaid_for(review)
    assert "classDef" not in text
    assert "linkStyle" not in text


def test_an_instance_marks_its_steps_and_the_path_taken(waiting):
    version, instance = waiting
    lines = mermaid_for(version, instance=instance).splitlines()
    assert "    class s0 done" in lines
    assert "    class s1 active" in lines
    assert not any(line.startswith("    class s2") for line in lines)
    assert any(line.startswith("    classDef failed") for line in lines)
    assert "    linkStyle 0 stroke:#1f6feb,stroke-width:3px" in lines
