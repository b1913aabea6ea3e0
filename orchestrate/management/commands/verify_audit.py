"""`python manage.py verify_audit [--instance N]`: check the audit trail's hash chains.

Exits 0 and prints how much was verified when every chain is intact; otherwise names the
first broken event of each broken chain and exits 1.
"""

from django.core.management.base import BaseCommand, CommandError

from orchestrate.audit_chain import verify_all


class Command(BaseCommand):
    help = "Verify the hash chain of every instance's audit trail (or of one instance)."

    def add_arguments(self, parser):
        parser.add_argument("--instance", type=int, metavar="N", help="check only instance N")

    def handle(self, *args, **options):
        instance_id = options["instance"]
        report = verify_all(instance_id=instance_id)
        if instance_id is not None and not report.chains:
            raise CommandError(f"instance {instance_id} has no audit events")
        if not report.ok:
            for link in report.broken:
                self.stderr.write(str(link))
            raise CommandError(
                f"{len(report.broken)} of {report.chains} chains broken "
                f"({report.events} events checked)"
            )
        chains = "chain" if report.chains == 1 else "chains"
        events = "event" if report.events == 1 else "events"
        self.stdout.write(f"{report.chains} {chains}, {report.events} {events} verified")
