"""What every inbox view shares: htmx detection, safe `next` URLs, and the one place
where the task services' errors become pages."""

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme

from tasks_inbox.services.errors import TaskConflict, TaskForbidden, TaskInvalid, TaskNotFound


def is_htmx(request):
    """A request from htmx that wants a fragment (a history restore wants the page)."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def vary_on_htmx(response):
    patch_vary_headers(response, ["HX-Request"])
    return response


def safe_next(request, value, default=""):
    """`value` if it is a path on this site, else `default` (no open redirects)."""
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return default


def url_with(path, params):
    """`path` with `params` as its query string."""
    return f"{path}?{urlencode(params)}" if params else path


def without_params(url, *names):
    """`url` with the query parameters `names` removed."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in names]
    return urlunsplit(parts._replace(query=urlencode(query)))


class TaskErrorMixin:
    """Turns the task services' errors into answers a person understands, in one place:

    - TaskNotFound: a 404 page (a task someone may not see looks the same as a missing one);
    - TaskConflict, TaskForbidden: the message as a warning on the page they came from
      (`back_url`), because someone else was faster or the state moved on;
    - TaskInvalid: `invalid(exc)`, by default the form again with the errors on its fields.
    """

    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        except TaskNotFound as exc:
            return render(
                request, "tasks_inbox/not_found.html", {"message": exc.message}, status=404
            )
        except (TaskConflict, TaskForbidden) as exc:
            messages.warning(request, exc.message)
            return redirect(self.back_url())
        except TaskInvalid as exc:
            return self.invalid(exc)

    def back_url(self):
        return safe_next(self.request, self.request.POST.get("next"), reverse("inbox:mine"))

    def invalid(self, exc):
        for message in exc.errors.values():
            messages.error(self.request, message)
        return redirect(self.back_url())
