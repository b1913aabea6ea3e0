"""`python manage.py import_workflow FILE [FILE ...] [--publish]`: import workflow files.

Each file is imported in its own transaction: a refused file writes nothing, and the other
files are still imported. Refusals go to stderr as `FILE: path: message`, and the command
then fails.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from orchestrate.formats import WorkflowFormatError, load_document
from orchestrate.models import DecisionTableVersion
from orchestrate.services.definitions import import_workflow


class Command(BaseCommand):
    help = (
        "Import workflow files (YAML or JSON) as new draft versions, or published ones "
        "with --publish. A file equal to the latest version creates nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE", help="workflow files")
        parser.add_argument(
            "--publish",
            action="store_true",
            help="publish the imported versions so that new instances use them",
        )

    def handle(self, *args, **options):
        refused = 0
        for name in options["files"]:
            if not self._import(name, publish=options["publish"]):
                refused += 1
        if refused:
            total = len(options["files"])
            raise CommandError(f"{refused} of {total} file(s) refused; nothing written for them")

    def _import(self, name, *, publish):
        """Import one file; report and return False if it is refused."""
        try:
            data = Path(name).read_bytes()
        except OSError as exc:
            self.stderr.write(f"{name}: cannot read the file: {exc.strerror or exc}")
            return False
        try:
            doc = load_document(data, filename=name)
            version = import_workflow(doc, publish=publish)
        except WorkflowFormatError as exc:
            for error in exc.errors:
                where = f" (line {error.line})" if error.line and error.path else ""
                self.stderr.write(f"{name}: {error}{where}")
            return False
        owner = version.table if isinstance(version, DecisionTableVersion) else version.definition
        self.stdout.write(f"{owner.key} v{version.number} ({version.status})")
        return True
