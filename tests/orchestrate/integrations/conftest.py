"""Fixtures of the events and webhooks tests: a local HTTP receiver, subscriptions,
and API clients that may post events."""

import http.server
import threading

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from orchestrate.models import WebhookSubscription
from orchestrate.services.webhooks import reset_subscription_cache
from tests.factories import UserFactory

SECRET = "s3cret-for-tests-0123456789"


@pytest.fixture(autouse=True)
def _fresh_subscriptions(broker):
    """Each test loads the subscriptions it makes; none leaks into later tests (their
    rows roll back, this process's snapshot would not)."""
    reset_subscription_cache(None)
    yield broker
    reset_subscription_cache(())


class Receiver:
    """A threaded HTTP server on 127.0.0.1 that records POSTs and answers them with the
    queued status codes (then 200)."""

    def __init__(self):
        self.requests = []
        self.statuses = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                answer = b"ok" if status < 300 else b"receiver says no"
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self):
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hooks"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def subscribe(receiver):
    """Make an active subscription to the receiver for the given audit kinds."""

    def make(*kinds, **fields):
        values = {
            "name": "test hook",
            "url": receiver.url,
            "secret": SECRET,
            "event_types": list(kinds),
            **fields,
        }
        return WebhookSubscription.objects.create(**values)

    return make


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def poster():
    """A user who holds `orchestrate.add_inboundevent` (and nothing else)."""
    user = UserFactory(username="shop")
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="orchestrate", codename="add_inboundevent")
    )
    return user


@pytest.fixture
def api(poster):
    return client_for(poster)
