"""`python manage.py worker_health`: exit 0 when at least one Celery worker answers a
ping through the broker, 1 otherwise (for a container's or a supervisor's health check)."""

from django.core.management.base import BaseCommand, CommandError

from orchestrate.observability.health import ping_workers


class Command(BaseCommand):
    help = "Ping the Celery workers; exit 0 if at least one answers, 1 otherwise."

    def add_arguments(self, parser):
        parser.add_argument(
            "--timeout",
            type=float,
            default=2.0,
            help="Seconds to wait for the answers (default 2).",
        )

    def handle(self, *args, timeout, **options):
        try:
            workers = ping_workers(timeout=timeout)
        except Exception as exc:
            raise CommandError(f"The broker cannot be reached: {exc}", returncode=1) from exc
        if not workers:
            raise CommandError(f"No worker answered within {timeout:g} s.", returncode=1)
        self.stdout.write(f"{len(workers)} worker(s) answered: {', '.join(workers)}")
