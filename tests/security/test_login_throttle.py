"""Brute force on the log-in page (django-axes): five wrong passwords for one username
from one address pause that pair for 15 minutes. The real user on another address still
gets in, the pause always ends, and behind proxies the right address is the one counted."""

import datetime

import pytest
import time_machine
from axes.models import AccessAttempt
from django.utils import timezone

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
ATTACKER = "203.0.113.9"
VICTIM = "198.51.100.7"
PASSWORD = "secret-pass-123"  # tests.factories.UserFactory


def log_in(client, username, password, **meta):
    meta.setdefault("REMOTE_ADDR", ATTACKER)
    return client.post(LOGIN, {"username": username, "password": password}, **meta)


def fail(client, username, times, **meta):
    for _ in range(times):
        response = log_in(client, username, "guess", **meta)
    return response


def logged_in(response):
    return response.status_code == 302 and response["Location"] == "/inbox/"


def test_the_fifth_wrong_password_locks_the_pair_with_a_friendly_page(client, users):
    response = fail(client, "bob", 4)
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()

    response = fail(client, "bob", 1)
    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many failed log-ins" in page
    assert "Logging in as <strong>bob</strong> failed 5 times from your address" in page
    assert "Try again in 15 minutes." in page
    assert 'href="/accounts/login/"' in page

    # Locked: even the right password does not get in now, and no session is made.
    response = log_in(client, "bob", PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_lockout_page_escapes_the_username(client, users):
    response = fail(client, "<b>bob</b>", 5)
    assert response.status_code == 429
    assert "&lt;b&gt;bob&lt;/b&gt;" in response.content.decode()


def test_the_real_user_on_another_address_still_logs_in(client, users):
    fail(client, "bob", 5)
    assert log_in(client, "bob", PASSWORD).status_code == 429
    assert logged_in(log_in(client, "bob", PASSWORD, REMOTE_ADDR=VICTIM))


def test_other_users_from_the_same_address_still_log_in(client, users):
    fail(client, "bob", 5)
    assert logged_in(log_in(client, "carol", PASSWORD))


def test_a_success_before_the_limit_forgets_the_failures(client, users):
    fail(client, "bob", 4)
    assert logged_in(log_in(client, "bob", PASSWORD))
    client.logout()
    assert fail(client, "bob", 4).status_code == 200


def test_the_admin_log_in_counts_the_same_failures(client, users):
    fail(client, "bob", 5)
    response = client.post(
        "/admin/login/", {"username": "bob", "password": PASSWORD}, REMOTE_ADDR=ATTACKER
    )
    assert response.status_code == 429


def test_the_lockout_ends_after_the_cool_off_even_if_the_attacker_keeps_trying(client, users):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        fail(client, "bob", 5)
        clock.move_to(start + datetime.timedelta(minutes=10))
        assert fail(client, "bob", 3).status_code == 429
        clock.move_to(start + datetime.timedelta(minutes=14, seconds=59))
        assert log_in(client, "bob", PASSWORD).status_code == 429
        clock.move_to(start + datetime.timedelta(minutes=15, seconds=1))
        assert logged_in(log_in(client, "bob", PASSWORD))


def test_without_proxies_x_forwarded_for_is_ignored(client, users):
    for spoofed in ("6.6.6.1", "6.6.6.2", "6.6.6.3", "6.6.6.4", "6.6.6.5"):
        log_in(client, "bob", "guess", HTTP_X_FORWARDED_FOR=spoofed)
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {ATTACKER}
    assert log_in(client, "bob", PASSWORD, HTTP_X_FORWARDED_FOR="6.6.6.6").status_code == 429


@pytest.mark.parametrize(
    ("proxies", "forwarded_for", "client_address"),
    [
        # One proxy appends the address it saw: the right-most entry is the client.
        (1, ATTACKER, ATTACKER),
        (1, f"6.6.6.6, {ATTACKER}", ATTACKER),
        # Two proxies: the first appended the client, the second the first proxy.
        (2, f"6.6.6.6, {ATTACKER}, 10.0.0.2", ATTACKER),
        # Fewer entries than proxies: the request bypassed one; its own address counts.
        (2, ATTACKER, "10.0.0.1"),
    ],
)
def test_the_proxy_count_picks_the_client_address(
    client, users, settings, proxies, forwarded_for, client_address
):
    settings.ORCHESTRATE_TRUSTED_PROXIES = proxies
    log_in(client, "bob", "guess", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded_for)
    assert AccessAttempt.objects.get().ip_address == client_address


def test_behind_a_proxy_a_client_cannot_escape_its_lockout_by_forging_the_header(
    client, users, settings
):
    settings.ORCHESTRATE_TRUSTED_PROXIES = 1
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    for forged in range(5):
        log_in(client, "bob", "guess", HTTP_X_FORWARDED_FOR=f"6.6.6.{forged}, {ATTACKER}", **proxy)
    locked = log_in(client, "bob", PASSWORD, HTTP_X_FORWARDED_FOR=f"7.7.7.7, {ATTACKER}", **proxy)
    assert locked.status_code == 429
    # Everyone else behind the same proxy is not affected.
    assert logged_in(log_in(client, "bob", PASSWORD, HTTP_X_FORWARDED_FOR=VICTIM, **proxy))
