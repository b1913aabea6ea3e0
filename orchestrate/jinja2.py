"""The Jinja2 environment for the few templates that render many rows on hot pages (the
inbox lists' rows): Jinja2 renders them several times faster than the Django template
language. Autoescaping is on, as in every Django template; the filters are Django's own,
so the output is the same."""

from pathlib import Path

from django import forms
from django.conf import settings
from django.forms.renderers import Jinja2 as Jinja2FormRenderer
from django.template import defaultfilters
from django.utils import dateformat, timezone, translation
from django.utils.functional import cached_property
from jinja2 import Environment, pass_context

# The rows' date formats, written for `strftime`, which is 10-15 times faster than
# Django's `dateformat` (a list page formats about a hundred dates). Same text in
# English: `%a`/`%b` are the C locale's names, which Python keeps unless told otherwise;
# in another language Django's formatting (translated names) is used.
_STRFTIME = {
    "j M": "{d.day} {d:%b}",
    "j M Y, H:i": "{d.day} {d:%b %Y, %H:%M}",
    "j M, H:i": "{d.day} {d:%b, %H:%M}",
    "D j M, H:i": "{d:%a} {d.day} {d:%b, %H:%M}",
}


@pass_context
def _date(context, value, arg):
    """Django's `date` filter for the literal formats these templates use, in the current
    time zone as Django's engine gives it (`expects_localtime`). The zone and language
    come from the context when the view put them there (`date_context()`): asking for
    them a hundred times was a tenth of a list page."""
    if value in (None, ""):
        return ""
    zone = context.get("time_zone") or timezone.get_current_timezone()
    value = value.astimezone(zone)
    if arg == "c":
        return value.isoformat()  # as Django's "c"
    fast = _STRFTIME.get(arg)
    language = context.get("language") or translation.get_language()
    if fast is not None and language in (None, "en", "en-us"):
        return fast.format(d=value)
    return dateformat.format(value, arg)


def date_context():
    """The current time zone and language, for a template that formats many dates."""
    return {"time_zone": timezone.get_current_timezone(), "language": translation.get_language()}


def environment(**options):
    options.pop("autoescape", None)  # always on, whatever the settings say
    env = Environment(autoescape=True, **options)
    env.filters.update(date=_date, slugify=defaultfilters.slugify)
    return env


class FormRenderer(Jinja2FormRenderer):
    """Forms rendered by Jinja2: Django's widget templates for it, and our field group
    (label, widget, help, errors: `templates/jinja2/tasks_inbox/field.html`), which
    `{{ field.as_field_group }}` renders. In the Django template language a select cost
    a template per option and each field an include."""

    field_template_name = "tasks_inbox/field.html"

    @cached_property
    def engine(self):
        return self.backend(
            {
                "APP_DIRS": False,
                "DIRS": [
                    Path(forms.__file__).parent / "jinja2",
                    settings.BASE_DIR / "templates" / "jinja2",
                ],
                "NAME": "orchestrate-forms",
                "OPTIONS": {"environment": "orchestrate.jinja2.environment"},
            }
        )


# One renderer for the process, so its templates are compiled once.
FORM_RENDERER = FormRenderer()
