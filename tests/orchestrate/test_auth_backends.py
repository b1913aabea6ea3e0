"""A person's model permissions: their own and their groups', read in one query."""

import pytest
from django.contrib.auth.models import AnonymousUser, Permission

from tests.factories import GroupFactory, UserFactory

pytestmark = pytest.mark.django_db


def perm(codename):
    return Permission.objects.get(codename=codename)


def fresh(user):
    """The user as a new request loads it (no permission cache)."""
    return type(user).objects.get(pk=user.pk)


def test_own_and_group_permissions_come_in_one_query(django_assert_num_queries):
    reviewers = GroupFactory(name="reviewers")
    reviewers.permissions.add(perm("view_reports"))
    user = UserFactory()
    user.groups.add(reviewers)
    user.user_permissions.add(perm("view_task"))
    user = fresh(user)
    with django_assert_num_queries(1):
        assert user.has_perm("tasks_inbox.view_reports")
        assert user.has_perm("tasks_inbox.view_task")
        assert not user.has_perm("tasks_inbox.change_task")
    assert user.get_all_permissions() >= {"tasks_inbox.view_reports", "tasks_inbox.view_task"}


def test_an_inactive_or_anonymous_user_holds_nothing():
    user = UserFactory()
    user.user_permissions.add(perm("view_task"))
    user.is_active = False
    user.save()
    assert not fresh(user).has_perm("tasks_inbox.view_task")
    assert not AnonymousUser().has_perm("tasks_inbox.view_task")


def test_a_superuser_holds_every_permission():
    user = UserFactory(is_superuser=True)
    assert fresh(user).has_perm("tasks_inbox.change_task")
    assert "tasks_inbox.change_task" in fresh(user).get_all_permissions()
