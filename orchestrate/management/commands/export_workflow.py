"""`python manage.py export_workflow KEY [--version N] [--output FILE]`: write a version
as a workflow file (YAML) that `import_workflow` reads back as the same workflow."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from orchestrate.formats import dump_yaml
from orchestrate.formats.decision_tables import dump_decision_table
from orchestrate.models import DecisionTable, VersionStatus, WorkflowDefinition
from orchestrate.services.decision_tables import export_decision_table_version
from orchestrate.services.definitions import export_version


class Command(BaseCommand):
    help = (
        "Write a workflow version as YAML: by default the current published version, "
        "else the latest draft."
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        # The format names the option --version; it replaces Django's own --version.
        kwargs.setdefault("conflict_handler", "resolve")
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("key", metavar="KEY", help="the workflow's key")
        parser.add_argument("--version", type=int, metavar="N", help="the version number")
        parser.add_argument("--output", metavar="FILE", help="write to FILE, not stdout")

    def handle(self, *args, **options):
        key = options["key"]
        definition = (
            WorkflowDefinition.objects.filter(key=key).first()
            # A key that names no workflow may name a decision table.
            or DecisionTable.objects.filter(key=key).first()
        )
        if definition is None:
            raise CommandError(f"no workflow with the key {key!r}")
        version = self._pick_version(definition, options["version"])
        if isinstance(definition, DecisionTable):
            text = dump_decision_table(export_decision_table_version(version))
        else:
            text = dump_yaml(export_version(version))
        if options["output"]:
            Path(options["output"]).write_text(text, encoding="utf-8")
            self.stderr.write(f"{key} v{version.number} ({version.status}) -> {options['output']}")
        else:
            self.stdout.write(text, ending="")

    def _pick_version(self, definition, number):
        versions = definition.versions.all()
        if number is not None:
            version = versions.filter(number=number).first()
            if version is None:
                raise CommandError(f"{definition.key} has no version {number}")
            return version
        version = (
            definition.current_version()
            or versions.filter(status=VersionStatus.DRAFT).order_by("-number").first()
            or versions.order_by("-number").first()
        )
        if version is None:
            raise CommandError(f"{definition.key} has no versions")
        return version
