"""WSGI entry point for any WSGI server (waitress in the demo, gunicorn in production)."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kiwidesk.settings")
application = get_wsgi_application()
