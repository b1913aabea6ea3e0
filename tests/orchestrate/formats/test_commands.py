"""The `import_workflow` and `export_workflow` management commands."""

import io

import pytest
from django.core.management import CommandError, call_command

from orchestrate.formats import dump_yaml, load_document
from orchestrate.models import VersionStatus, WorkflowDefinition, WorkflowVersion
from orchestrate.services.definitions import import_workflow
from tests.orchestrate.formats.documents import full_document, full_yaml, minimal_document

pytestmark = pytest.mark.django_db


def run(command, *args, **options):
    """Run a command; returns (stdout, stderr, the CommandError or None)."""
    out, err = io.StringIO(), io.StringIO()
    failure = None
    try:
        call_command(command, *args, stdout=out, stderr=err, **options)
    except CommandError as exc:
        failure = exc
    return out.getvalue(), err.getvalue(), failure


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


# --- import_workflow --------------------------------------------------------------------


def test_import_a_draft(tmp_path):
    path = write(tmp_path, "every_step.yaml", full_yaml())
    out, err, failure = run("import_workflow", path)
    assert failure is None
    assert (out, err) == ("every_step v1 (draft)\n", "")
    assert WorkflowVersion.objects.get().status == VersionStatus.DRAFT


def test_import_and_publish_several_files(tmp_path):
    first = write(tmp_path, "every_step.yaml", full_yaml())
    second = write(tmp_path, "minimal.yaml", dump_yaml(minimal_document()))
    out, _err, failure = run("import_workflow", first, second, "--publish")
    assert failure is None
    assert out == "every_step v1 (published)\nminimal v1 (published)\n"


def test_import_of_an_unchanged_file_reports_the_existing_version(tmp_path):
    path = write(tmp_path, "every_step.yaml", full_yaml())
    run("import_workflow", path)
    changed = write(tmp_path, "changed.yaml", full_yaml().replace("Every step type", "Renamed"))
    run("import_workflow", changed)
    out, _err, _failure = run("import_workflow", changed, "--publish")
    assert out == "every_step v2 (published)\n"
    assert WorkflowVersion.objects.count() == 2


def test_import_of_a_json_file(tmp_path):
    import json

    path = write(tmp_path, "every_step.json", json.dumps(full_document()))
    out, _err, failure = run("import_workflow", path)
    assert failure is None
    assert out == "every_step v1 (draft)\n"


def test_refused_file_prints_every_error_and_writes_nothing(tmp_path):
    text = (
        full_yaml()
        .replace("priority: high", "priority: critical")
        .replace("action: http_request", "action: foo")
    )
    bad = write(tmp_path, "bad.yaml", text)
    good = write(tmp_path, "good.yaml", dump_yaml(minimal_document()))
    out, err, failure = run("import_workflow", bad, good, "--publish")

    lines = text.splitlines()
    action_line = lines.index("    action: foo") + 1
    priority_line = lines.index("    priority: critical") + 1
    assert err.splitlines() == [
        f"{bad}: steps[2].action: unknown action 'foo'; known: "
        + err.split("known: ", 1)[1].split(" (line")[0]
        + f" (line {action_line})",
        f"{bad}: steps[4].priority: `priority` must be one of low, normal, high, urgent, "
        f"not 'critical' (line {priority_line})",
    ]
    assert out == "minimal v1 (published)\n"
    assert str(failure) == "1 of 2 file(s) refused; nothing written for them"
    assert list(WorkflowDefinition.objects.values_list("key", flat=True)) == ["minimal"]


def test_yaml_syntax_error(tmp_path):
    path = write(tmp_path, "broken.yaml", "format: 1\nkey: [broken\n")
    out, err, failure = run("import_workflow", path)
    assert out == ""
    assert err.startswith(f"{path}: YAML syntax error at line 3, column 1: ")
    assert failure is not None
    assert WorkflowDefinition.objects.count() == 0


def test_missing_file(tmp_path):
    path = str(tmp_path / "missing.yaml")
    _out, err, failure = run("import_workflow", path)
    assert err == f"{path}: cannot read the file: No such file or directory\n"
    assert str(failure) == "1 of 1 file(s) refused; nothing written for them"


def test_a_broken_decision_table_file_is_refused_with_the_place(tmp_path):
    text = "format: 1\nkind: decision_table\nkey: discount\nname: D\nhit_policy: sometimes\n"
    path = write(tmp_path, "discount.yaml", text)
    _out, err, failure = run("import_workflow", path)
    assert err.splitlines() == [
        f"{path}: hit_policy: `hit_policy` must be one of unique, first, priority, collect, "
        "not 'sometimes' (line 5)",
        f"{path}: outputs: a decision table needs `outputs`: a list of names (line 1)",
        f"{path}: rules: a decision table needs `rules` (line 1)",
    ]
    assert failure is not None


# --- export_workflow --------------------------------------------------------------------


def test_export_writes_yaml_that_imports_as_the_same_workflow():
    version = import_workflow(full_document(), publish=True)
    out, err, failure = run("export_workflow", "every_step")
    assert (err, failure) == ("", None)
    assert out == dump_yaml(version.to_spec())
    assert load_document(out) == version.to_spec()
    assert import_workflow(load_document(out)).pk == version.pk


def test_export_prefers_the_published_version_over_a_newer_draft():
    import_workflow(minimal_document(), publish=True)
    import_workflow(minimal_document(name="Draft"))
    out, _err, _failure = run("export_workflow", "minimal")
    assert "name: Minimal\n" in out


def test_export_takes_the_latest_draft_without_a_published_version():
    import_workflow(minimal_document())
    import_workflow(minimal_document(name="Second draft"))
    out, _err, _failure = run("export_workflow", "minimal")
    assert "name: Second draft\n" in out


def test_export_a_given_version_to_a_file(tmp_path):
    import_workflow(minimal_document(name="First"))
    import_workflow(minimal_document(name="Second"), publish=True)
    target = tmp_path / "out.yaml"
    out, err, failure = run("export_workflow", "minimal", "--version", "1", "--output", str(target))
    assert (out, failure) == ("", None)
    assert err == f"minimal v1 (draft) -> {target}\n"
    assert load_document(target.read_text(encoding="utf-8"))["name"] == "First"


def test_export_of_an_unknown_workflow():
    _out, _err, failure = run("export_workflow", "nope")
    assert str(failure) == "no workflow with the key 'nope'"


def test_export_of_an_unknown_version():
    import_workflow(minimal_document())
    _out, _err, failure = run("export_workflow", "minimal", "--version", "7")
    assert str(failure) == "minimal has no version 7"
