"""WSGI entry point: `gunicorn orchestrate.wsgi:application`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestrate.settings")
application = get_wsgi_application()
