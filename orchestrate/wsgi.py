"""WSGI entry point: `gunicorn orchestrate.wsgi:application`."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestrate.settings")
application = get_wsgi_application()

from orchestrate.celery import load_sending  # noqa: E402 (needs the settings)

load_sending()

# What loading made (modules, settings, URL patterns, models: about 116,000 objects) lives
# as long as the process. Frozen, it is out of the garbage collector's reach: a full
# collection otherwise scans all of it and stalled a request now and then (40-50 ms on the
# bench machine; BENCHMARKS.md, "Fourth pass"). With gunicorn's --preload the frozen
# pages also stay shared between the workers.
gc.freeze()
