"""Decision tables through `import_workflow` and `export_workflow` (services and commands)."""

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django_fsm import TransitionNotAllowed

from orchestrate.formats import WorkflowFormatError, load_document
from orchestrate.models import DecisionTable, DecisionTableVersion, VersionStatus
from orchestrate.services.decision_tables import publish_decision_table_version
from orchestrate.services.definitions import export_version, import_workflow
from tests.orchestrate.decisions.tables import DISCOUNT, table

pytestmark = pytest.mark.django_db

DEMO = Path(__file__).resolve().parents[3] / "workflows" / "decision_tables" / "discount.yaml"


def run(command, *args, **options):
    out, err = io.StringIO(), io.StringIO()
    failure = None
    try:
        call_command(command, *args, stdout=out, stderr=err, **options)
    except CommandError as exc:
        failure = exc
    return out.getvalue(), err.getvalue(), failure


def test_the_demo_file_round_trips_through_the_commands_byte_for_byte():
    out, err, failure = run("import_workflow", str(DEMO), publish=True)
    assert (out, err, failure) == ("discount v1 (published)\n", "", None)
    exported, _err, failure = run("export_workflow", "discount")
    assert failure is None
    assert exported == DEMO.read_text(encoding="utf-8")


def test_export_then_import_gives_the_same_document(tmp_path):
    doc = table(
        hit_policy="collect",
        aggregation="max",
        rules=[*DISCOUNT["rules"], {"when": {"amount": "!= 3, < 0"}, "then": {"discount": 2}}],
    )
    version = import_workflow(doc)
    assert export_version(version) == doc
    path = tmp_path / "out.yaml"
    run("export_workflow", "discount", output=str(path))
    assert load_document(path.read_bytes()) == doc
    # Re-importing the exported file changes nothing.
    out, _err, _failure = run("import_workflow", str(path))
    assert out == "discount v1 (draft)\n"
    assert DecisionTableVersion.objects.count() == 1


def test_a_changed_document_is_a_new_version_and_publish_publishes_it():
    first = import_workflow(DISCOUNT, publish=True)
    second = import_workflow(table(name="Discounts"), publish=True)
    assert (first.number, second.number, second.status) == (1, 2, VersionStatus.PUBLISHED)
    assert DecisionTable.objects.get(key="discount").name == "Discounts"
    assert DecisionTable.objects.get(key="discount").current_version() == second


def test_the_priority_table_round_trips():
    doc = table(hit_policy="priority", priorities={"discount": [0.1, 0.05, 0]})
    assert export_version(import_workflow(doc)) == doc


def test_a_refused_table_writes_nothing_and_the_command_says_where(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(DEMO.read_text().replace("'>= 1000'", "'>= lots'"), encoding="utf-8")
    _out, err, failure = run("import_workflow", str(path))
    assert failure is not None
    assert err.startswith(f"{path}: rules[0].when.amount: the cell '>= lots' does not parse")
    assert err.rstrip().endswith("(line 11)")
    assert DecisionTable.objects.count() == 0
    with pytest.raises(WorkflowFormatError):
        import_workflow(table(hit_policy="sometimes"))


def test_publishing_validates_the_draft_again():
    version = import_workflow(DISCOUNT)
    version.rules = [{"when": {"tier": "gold"}, "then": {"discount": 1}}]
    version.save()
    with pytest.raises(WorkflowFormatError, match=r"rules\[0\]\.when\.tier"):
        publish_decision_table_version(version)
    version.rules = DISCOUNT["rules"]
    version.save()
    published = publish_decision_table_version(version)
    assert published.status == VersionStatus.PUBLISHED
    assert publish_decision_table_version(published) == published
    published.retire()
    published.save()
    with pytest.raises(TransitionNotAllowed):
        publish_decision_table_version(published)


def test_export_picks_a_version_by_number():
    import_workflow(DISCOUNT, publish=True)
    import_workflow(table(name="Second"))
    out, _err, _failure = run("export_workflow", "discount", version=2)
    assert "name: Second" in out
    out, _err, _failure = run("export_workflow", "discount")
    assert "name: Customer discount" in out  # the published one by default
