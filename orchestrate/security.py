"""Who did what from where: the client address of a request and the security log.

`client_address(request)` reads the address behind `ORCHESTRATE_TRUSTED_PROXIES` proxies
(each appends the address it received from to X-Forwarded-For, so the client is the entry
that many places from the right; entries further left are whatever the client sent and
are ignored). `RequestOriginMiddleware` makes it the current address of the request, so
audit events written while handling it carry it (`AuditEvent.address`), and writes the
security log: refused requests (401/403) and the admin changes the request made. Sign-ins,
failed sign-ins and sign-outs come from Django's auth signals (`connect_signals`).
"""

import contextlib
import contextvars
import ipaddress

from django.conf import settings
from django.utils import timezone

_address = contextvars.ContextVar("orchestrate_client_address", default=None)

ADMIN_KINDS = {1: "admin.added", 2: "admin.changed", 3: "admin.deleted"}
REFUSED_STATUSES = (401, 403)


def _valid(text):
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


def client_address(request):
    """The client's IP address as a string (None when the request has none)."""
    remote = _valid(request.META.get("REMOTE_ADDR") or "")
    proxies = getattr(settings, "ORCHESTRATE_TRUSTED_PROXIES", 0)
    if not proxies:
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    forwarded = [part.strip() for part in forwarded if part.strip()]
    if len(forwarded) < proxies:
        # Fewer proxies than configured: the request did not come through all of them.
        return remote
    return _valid(forwarded[-proxies]) or remote


def current_address():
    """The client address of the request being handled in this context, or None."""
    return _address.get()


@contextlib.contextmanager
def request_address(address):
    token = _address.set(address)
    try:
        yield
    finally:
        _address.reset(token)


def _request_fields(request):
    return {
        "address": client_address(request),
        "method": request.method or "",
        "path": request.get_full_path()[:500],
    }


def record(kind, *, request=None, user=None, label="anonymous", **fields):
    """Append one event to the security log. The actor is `user`, else the request's
    signed-in user; `label` names who it was when nobody is signed in."""
    from orchestrate.models import SecurityEvent

    if user is None and request is not None:
        user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated
    if request is not None:
        fields = {**_request_fields(request), **fields}
    return SecurityEvent.objects.create(
        kind=kind,
        actor=user if signed_in else None,
        actor_label=(user.get_username() if signed_in else label)[:150],
        **fields,
    )


def record_admin_changes(request, since):
    """The admin's history entries that this request wrote, copied into the security log
    with the request's address (bulk deletions write many at once)."""
    from django.contrib.admin.models import LogEntry

    from orchestrate.models import SecurityEvent

    if not request.user.is_authenticated:
        return
    entries = LogEntry.objects.filter(user=request.user, action_time__gte=since).select_related(
        "content_type"
    )
    origin = _request_fields(request)
    events = [
        SecurityEvent(
            kind=ADMIN_KINDS.get(entry.action_flag, "admin.changed"),
            actor=request.user,
            actor_label=request.user.get_username(),
            at=entry.action_time,
            **origin,
            target=f"{entry.content_type.app_label}.{entry.content_type.model}:{entry.object_id}"[
                :200
            ],
            target_repr=entry.object_repr[:200],
            message=entry.get_change_message(),
        )
        for entry in entries
    ]
    SecurityEvent.objects.bulk_create(events)


class RequestOriginMiddleware:
    """Binds the client address for the audit trail; logs refusals and admin changes."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.admin_prefix = "/admin/"

    def __call__(self, request):
        started = timezone.now()
        with request_address(client_address(request)):
            response = self.get_response(request)
            if response.status_code in REFUSED_STATUSES:
                record(
                    "permission.denied",
                    request=request,
                    message=f"HTTP {response.status_code}",
                )
            if request.method == "POST" and request.path.startswith(self.admin_prefix):
                record_admin_changes(request, started)
        return response


def _logged_in(sender, request, user, **kwargs):
    record("login.succeeded", request=request, user=user)


def _logged_out(sender, request, user, **kwargs):
    if request is not None:
        record("logout", request=request, user=user)


def _login_failed(sender, credentials, request=None, **kwargs):
    # The username as typed (never the password); no actor: the sign-in did not happen.
    typed = str(credentials.get("username") or "") or "anonymous"
    record("login.failed", request=request, label=typed)


def connect_signals():
    from django.contrib.auth import signals

    signals.user_logged_in.connect(_logged_in, dispatch_uid="orchestrate.security.login")
    signals.user_logged_out.connect(_logged_out, dispatch_uid="orchestrate.security.logout")
    signals.user_login_failed.connect(_login_failed, dispatch_uid="orchestrate.security.failed")
