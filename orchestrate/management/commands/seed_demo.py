"""`python manage.py seed_demo`: the demo groups, users, API tokens and workflows.

Safe to run on every start: existing rows are updated, not duplicated, and importing an
unchanged workflow file does not create a new version (the importer compares).
"""

import datetime
import os

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from orchestrate.formats import load_document
from orchestrate.models import BusinessCalendar, Holiday
from orchestrate.services.definitions import import_workflow
from orchestrate.services.instances import start_instance
from tasks_inbox.models import Profile

GROUPS = ("managers", "directors", "sla-viewers")

# username -> groups; admin is the superuser.
USERS = {
    "admin": (),
    "alice": (),
    "bob": ("managers",),
    "carol": ("managers",),
    "dave": ("directors",),
    "erin": ("managers",),
    "maria": ("sla-viewers",),
}

# Yearly public holidays of the Berlin calendar (month, day).
BERLIN_HOLIDAYS = {
    (1, 1): "New Year's Day",
    (5, 1): "Labour Day",
    (10, 3): "German Unity Day",
    (12, 25): "Christmas Day",
    (12, 26): "Boxing Day",
}

# People's managers: escalations with `to: {manager: ...}` go to them.
MANAGERS = {"alice": "carol", "bob": "dave", "carol": "dave", "erin": "dave"}

# Requests that alice has open, so the inbox has something to show on the first visit
# (business keys make starting them idempotent).
DEMO_REQUESTS = [
    ("purchase_request", "demo-laptop", {"item": "Laptop for the new hire", "amount": 2400}),
    ("purchase_request", "demo-forklift", {"item": "Electric forklift", "amount": 18500}),
    (
        "expense_claim",
        "demo-trip",
        {"employee_email": "alice@example.com", "amount": 312.4, "purpose": "Trip to Lyon"},
    ),
    (
        "expense_claim",
        "demo-dinner",
        {"employee_email": "alice@example.com", "amount": 86, "purpose": "Customer dinner"},
    ),
    ("vendor_onboarding", "demo-acme", {"vendor_id": "V-1042", "vendor_name": "ACME Tools"}),
]

WORKFLOWS_DIR = settings.BASE_DIR / "workflows"


class Command(BaseCommand):
    help = "Create the demo groups, users and API tokens; import and publish workflows/*.yaml."

    def handle(self, *args, **options):
        password = os.environ.get("DEMO_PASSWORD", "orchestrate")
        with transaction.atomic():
            users = self._seed_users(password)
        self._seed_calendars()
        # Decision tables first: workflows may `decide` with them.
        for path in sorted((WORKFLOWS_DIR / "decision_tables").glob("*.yaml")):
            self._import(path)
        for path in sorted(WORKFLOWS_DIR.glob("*.yaml")):
            self._import(path)
        self._seed_requests(users["alice"])
        token = Token.objects.get(user=users["admin"])
        self.stdout.write(f"API token of admin: {token.key}")
        self.stdout.write(f"Demo users: {', '.join(USERS)} — password: {password}")

    def _seed_users(self, password):
        groups = {name: Group.objects.get_or_create(name=name)[0] for name in GROUPS}
        # sla-viewers read the SLA reports (the migration grants this too; a database that
        # was emptied keeps the permission but not the grant).
        groups["sla-viewers"].permissions.add(
            Permission.objects.get(content_type__app_label="tasks_inbox", codename="view_reports")
        )
        User = get_user_model()
        users = {}
        for username, group_names in USERS.items():
            user, _ = User.objects.get_or_create(username=username)
            user.email = f"{username}@example.com"
            user.first_name = username.capitalize()
            user.is_active = True
            user.is_staff = user.is_superuser = username == "admin"
            # Set on every run so the password printed at the end is always the right one.
            user.set_password(password)
            user.save()
            user.groups.add(*(groups[name] for name in group_names))
            Token.objects.get_or_create(user=user)
            users[username] = user
        for person, manager in MANAGERS.items():
            Profile.objects.update_or_create(
                user=users[person], defaults={"manager": users[manager]}
            )
        # Erin is away for two weeks; carol takes her new tasks and may act on her old ones.
        today = timezone.localdate()
        Profile.objects.update_or_create(
            user=users["erin"],
            defaults={
                "absent_from": today - datetime.timedelta(days=1),
                "absent_until": today + datetime.timedelta(days=14),
                "substitute": users["carol"],
            },
        )
        return users

    def _seed_calendars(self):
        """The Berlin office's calendar (vendor onboarding counts its due times in it)."""
        with transaction.atomic():
            berlin, _ = BusinessCalendar.objects.update_or_create(
                key="berlin",
                defaults={
                    "name": "Berlin office (Mon-Fri 08:30-17:00, lunch 12:30-13:00)",
                    "time_zone": "Europe/Berlin",
                    "working_hours": {
                        day: [["08:30", "12:30"], ["13:00", "17:00"]]
                        for day in ("mon", "tue", "wed", "thu", "fri")
                    },
                },
            )
            for (month, day), name in BERLIN_HOLIDAYS.items():
                Holiday.objects.update_or_create(
                    calendar=berlin,
                    date=datetime.date(2000, month, day),
                    defaults={"name": name, "yearly": True},
                )

    def _seed_requests(self, alice):
        for workflow_key, business_key, variables in DEMO_REQUESTS:
            instance, created = start_instance(
                workflow_key=workflow_key,
                business_key=business_key,
                variables=variables,
                actor=alice,
            )
            if created:
                self.stdout.write(f"Demo request {workflow_key} #{instance.pk} ({business_key})")

    def _import(self, path):
        try:
            doc = load_document(path.read_text(encoding="utf-8"), filename=path.name)
            result = import_workflow(doc, publish=True)
        except Exception as exc:
            raise CommandError(f"{path.name}: {exc}") from exc
        self.stdout.write(f"Workflow {path.name}: {result}")
