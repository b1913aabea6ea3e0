"""Away settings and saved views."""

import datetime

import pytest
from django.urls import reverse

from tasks_inbox.models import Profile, SavedView

from .conftest import messages_of

pytestmark = pytest.mark.django_db

MAY_1, MAY_9 = datetime.date(2030, 5, 1), datetime.date(2030, 5, 9)


def test_profile_form_sets_and_clears_the_absence(login, users):
    client = login("bob")
    html = client.get(reverse("inbox:profile")).content.decode()
    assert "Away from" in html and "Away until" in html and "Substitute" in html
    assert f'<option value="{users["bob"].pk}"' not in html  # not one's own substitute
    response = client.post(
        reverse("inbox:profile"),
        {
            "absent_from": "2030-05-01",
            "absent_until": "2030-05-09",
            "substitute": users["carol"].pk,
        },
        follow=True,
    )
    assert messages_of(response) == ["Your away settings are saved."]
    profile = Profile.objects.get(user=users["bob"])
    assert (profile.absent_from, profile.absent_until, profile.substitute) == (
        MAY_1,
        MAY_9,
        users["carol"],
    )
    assert "carol handles your tasks" in response.content.decode()
    response = client.post(
        reverse("inbox:profile"), {"absent_from": "", "absent_until": "", "substitute": ""}
    )
    profile.refresh_from_db()
    assert profile.absent_from is None and profile.substitute is None


def test_profile_errors_are_shown_on_their_fields(login, users):
    client = login("bob")
    response = client.post(
        reverse("inbox:profile"), {"absent_from": "2030-05-09", "absent_until": "2030-05-01"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "The last day of absence comes before the first." in html
    assert "Name a substitute for the time you are away." in html
    response = client.post(reverse("inbox:profile"), {"absent_from": "not a date"})
    assert response.status_code == 400 and "Enter a valid date." in response.content.decode()
    assert not Profile.objects.filter(user=users["bob"], absent_from__isnull=False).exists()


def test_save_apply_and_delete_a_view(login, users, task):
    client = login("bob")
    response = client.post(
        reverse("inbox:save-view"),
        {"name": "Urgent", "scope": "queue", "priority": "urgent", "q": "", "shared_with": ""},
    )
    assert response["Location"] == "/inbox/queue/?priority=urgent"
    view = SavedView.objects.get(owner=users["bob"])
    assert view.params == {"priority": "urgent"}
    response = client.get(response["Location"])
    html = response.content.decode()
    assert 'href="/inbox/queue/?priority=urgent" aria-current="page"' in html
    assert list(response.context["page"]) == []  # the task is of normal priority
    response = client.post(
        reverse("inbox:delete-view", args=[view.pk]), {"next": "/inbox/queue/"}, follow=True
    )
    assert messages_of(response) == ["The view was deleted."]
    assert not SavedView.objects.exists()


def test_a_view_needs_a_name(login):
    response = login("bob").post(
        reverse("inbox:save-view"), {"name": "", "scope": "mine", "next": "/inbox/"}, follow=True
    )
    assert messages_of(response) == ["Give the view a name."]


def test_a_shared_view_is_listed_for_the_group_but_only_the_owner_deletes_it(login, users):
    managers = users["bob"].groups.get()
    login("bob").post(
        reverse("inbox:save-view"),
        {"name": "Team queue", "scope": "queue", "sort": "due", "shared_with": managers.pk},
    )
    view = SavedView.objects.get()
    assert view.shared_with == managers
    html = login("carol").get(reverse("inbox:mine")).content.decode()
    assert "Team queue" in html and "by bob" in html
    assert reverse("inbox:delete-view", args=[view.pk]) not in html
    assert login("carol").post(reverse("inbox:delete-view", args=[view.pk])).status_code == 404
    assert "Team queue" not in login("dave").get(reverse("inbox:mine")).content.decode()


def test_the_save_form_offers_ones_own_groups_to_share_with(login, users):
    users["bob"].groups.add(users["dave"].groups.get())  # managers and directors
    html = login("bob").get(reverse("inbox:mine")).content.decode()
    select = html[
        html.index('name="shared_with"') : html.index("</select>", html.index('name="shared_with"'))
    ]
    groups = {group.name: group.pk for group in users["bob"].groups.all()}
    assert '<option value="" selected>Only me</option>' in select
    assert select.index(f'value="{groups["directors"]}"') < select.index(
        f'value="{groups["managers"]}"'
    )
    # Someone in no group has nobody to share with: no such field.
    assert 'name="shared_with"' not in login("alice").get(reverse("inbox:mine")).content.decode()


def test_a_view_cannot_be_shared_with_a_group_one_is_not_in(login, users):
    directors = users["dave"].groups.get()
    response = login("bob").post(
        reverse("inbox:save-view"),
        {"name": "Sneaky", "scope": "mine", "shared_with": directors.pk},
        follow=True,
    )
    assert "Select a valid choice" in messages_of(response)[0]
    assert not SavedView.objects.exists()
