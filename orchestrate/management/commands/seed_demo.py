"""`python manage.py seed_demo`: the demo groups, users, API tokens and workflows.

Safe to run on every start: existing rows are updated, not duplicated, and importing an
unchanged workflow file does not create a new version (the importer compares).
"""

import os

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from rest_framework.authtoken.models import Token

from orchestrate.formats import load_document
from orchestrate.services.definitions import import_workflow

GROUPS = ("managers", "directors", "sla-viewers")

# username -> groups; admin is the superuser.
USERS = {
    "admin": (),
    "alice": (),
    "bob": ("managers",),
    "carol": ("managers",),
    "dave": ("directors",),
    "maria": ("sla-viewers",),
}

WORKFLOWS_DIR = settings.BASE_DIR / "workflows"


class Command(BaseCommand):
    help = "Create the demo groups, users and API tokens; import and publish workflows/*.yaml."

    def handle(self, *args, **options):
        password = os.environ.get("DEMO_PASSWORD", "orchestrate")
        with transaction.atomic():
            users = self._seed_users(password)
        for path in sorted(WORKFLOWS_DIR.glob("*.yaml")):
            self._import(path)
        token = Token.objects.get(user=users["admin"])
        self.stdout.write(f"API token of admin: {token.key}")
        self.stdout.write(f"Demo users: {', '.join(USERS)} — password: {password}")

    def _seed_users(self, password):
        groups = {name: Group.objects.get_or_create(name=name)[0] for name in GROUPS}
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
        return users

    def _import(self, path):
        try:
            doc = load_document(path.read_text(encoding="utf-8"), filename=path.name)
            result = import_workflow(doc, publish=True)
        except Exception as exc:
            raise CommandError(f"{path.name}: {exc}") from exc
        self.stdout.write(f"Workflow {path.name}: {result}")
