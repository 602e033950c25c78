"""The smallest Django project that runs django-helpdesk's mail import, for the baseline.

Loaded only inside bench/out/helpdesk-venv by bench/helpdesk/import_mail.py. Everything
lives in HELPDESK_BENCH_WORKDIR. Nothing here can reach the network: mail goes to Django's
dummy backend and helpdesk's new-ticket and follow-up webhooks have no address.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

WORKDIR = Path(os.environ["HELPDESK_BENCH_WORKDIR"])

# A throw-away project: no session or signed value outlives the run.
SECRET_KEY = secrets.token_urlsafe(50)
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
SITE_ID = 1

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "helpdesk",
    "rest_framework",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# The same SQLite configuration as Kiwidesk's own (src/kiwidesk/settings.py), so that the
# ratio compares the importers and not two database set-ups.
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": WORKDIR / "helpdesk.sqlite3",
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA cache_size=-64000; PRAGMA mmap_size=268435456; PRAGMA temp_store=MEMORY;"
            ),
        },
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "/static/"
MEDIA_URL = "/media/"
MEDIA_ROOT = WORKDIR / "media"

# helpdesk still renders and "sends" its acknowledgements, as it does for every mail it
# imports; the dummy backend drops them without keeping them in memory.
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
DEFAULT_FROM_EMAIL = "support@kiwidesk.test"


def _no_webhooks() -> list[str]:
    return []


HELPDESK_TEAMS_MODE_ENABLED = False
HELPDESK_GET_NEW_TICKET_WEBHOOK_URLS = _no_webhooks
HELPDESK_GET_FOLLOWUP_WEBHOOK_URLS = _no_webhooks

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["stderr"], "level": "WARNING"},
}
