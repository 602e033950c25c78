"""Kiwidesk settings, read from the environment. With no environment at all it runs the demo."""

from __future__ import annotations

import importlib.util
import os
import re
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url

from kiwidesk.envconfig import ConfigError, env_bool, env_int, env_list, env_secret, env_str

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(env_str("KIWIDESK_DATA_DIR", str(Path.cwd() / "data"))).resolve()

DEBUG = env_bool("KIWIDESK_DEBUG", False)


def _secret_key() -> str:
    """Use KIWIDESK_SECRET_KEY, else a key generated once and kept in the data folder."""
    configured = env_secret("KIWIDESK_SECRET_KEY")
    if configured:
        return configured
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("KIWIDESK_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("KIWIDESK_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "anymail",
    "kiwidesk.accounts",
    "kiwidesk.contacts",
    "kiwidesk.cases",
    "kiwidesk.privacy",
    "kiwidesk.ingest",
    "kiwidesk.sla",
    "kiwidesk.channels.email",
    "kiwidesk.channels.twilio",
    "kiwidesk.channels.whatsapp",
    "kiwidesk.channels.webchat",
    "kiwidesk.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "kiwidesk.web.security.PathPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "kiwidesk.web.security.SessionLifetimeMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as its documentation asks: it answers a locked-out login with our page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "kiwidesk.urls"
WSGI_APPLICATION = "kiwidesk.wsgi.application"

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
                "kiwidesk.web.views.account_context.second_factor",
            ],
        },
    },
]


def _databases() -> dict[str, dict[str, object]]:
    url = env_str("DATABASE_URL", "")
    if url:
        try:
            config: dict[str, object] = dict(dj_database_url.parse(url, conn_max_age=600))
        except ValueError as exc:
            raise ConfigError(f"DATABASE_URL: {exc}") from None
        return {"default": config}
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    # The work queue gets its own file and so its own write lock (see kiwidesk.dbrouter).
    return {"default": _sqlite("kiwidesk.sqlite3"), "queue": _sqlite("queue.sqlite3")}


def _sqlite(filename: str) -> dict[str, object]:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DATA_DIR / filename,
        # Each server thread keeps its connection: opening one (and its PRAGMAs) per
        # request cost a webhook more than its insert.
        "CONN_MAX_AGE": 600,
        "OPTIONS": {
            # WAL lets the web server read while the worker writes; IMMEDIATE makes a
            # writing transaction take the lock up front instead of failing on upgrade.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA cache_size=-64000; PRAGMA mmap_size=268435456; PRAGMA temp_store=MEMORY;"
            ),
        },
    }


DATABASES = _databases()
DATABASE_ROUTERS = ["kiwidesk.dbrouter.QueueRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.Agent"
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:inbox"
LOGOUT_REDIRECT_URL = "web:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Argon2 for new and changed passwords; the older hashers stay so that existing
# PBKDF2 hashes still verify, and Django rehashes them with Argon2 at the next login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
# Axes first: it refuses a locked-out login before any password is checked.
AUTHENTICATION_BACKENDS = [
    "kiwidesk.accounts.backends.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Login throttling (django-axes): KIWIDESK_LOGIN_FAILURE_LIMIT failed logins for one
# email from one IP address lock that pair out for KIWIDESK_LOGIN_LOCKOUT_MINUTES.
# API tokens never pass through authenticate(), so the API is not affected.
AXES_FAILURE_LIMIT = env_int("KIWIDESK_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("KIWIDESK_LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The login form's field and authenticate()'s argument, although agents type an email.
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "kiwidesk.web.views.auth.locked_out"
# Behind a reverse proxy, name the header holding the client's address (e.g.
# HTTP_X_FORWARDED_FOR,REMOTE_ADDR); otherwise every visitor shares the proxy's address.
KIWIDESK_CLIENT_IP_HEADERS = env_list("KIWIDESK_CLIENT_IP_HEADERS", ["REMOTE_ADDR"])
AXES_CLIENT_IP_CALLABLE = "kiwidesk.accounts.backends.client_ip"
AXES_VERBOSE = False

# Two-factor (django-otp TOTP). The issuer is the name authenticator apps show.
OTP_TOTP_ISSUER = env_str("KIWIDESK_OTP_ISSUER", "Kiwidesk")
OTP_TOTP_THROTTLE_FACTOR = 1  # each wrong code doubles the wait: 1 s, 2 s, 4 s…

# Sessions end after KIWIDESK_SESSION_IDLE_MINUTES without a request and, however busy,
# KIWIDESK_SESSION_MAX_HOURS after login. kiwidesk.web.security renews a session in use
# once a minute, rather than SESSION_SAVE_EVERY_REQUEST's write on every request.
KIWIDESK_SESSION_IDLE_MINUTES = env_int("KIWIDESK_SESSION_IDLE_MINUTES", 30)
KIWIDESK_SESSION_MAX_HOURS = env_int("KIWIDESK_SESSION_MAX_HOURS", 12)
SESSION_COOKIE_AGE = KIWIDESK_SESSION_IDLE_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = False
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# Behind HTTPS (KIWIDESK_SECURE_COOKIES=true) cookies travel only over HTTPS, plain
# HTTP is redirected and browsers are told to use HTTPS only (HSTS).
KIWIDESK_SECURE_COOKIES = env_bool("KIWIDESK_SECURE_COOKIES", False)
SESSION_COOKIE_SECURE = KIWIDESK_SECURE_COOKIES
CSRF_COOKIE_SECURE = KIWIDESK_SECURE_COOKIES
SECURE_SSL_REDIRECT = KIWIDESK_SECURE_COOKIES and env_bool("KIWIDESK_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("KIWIDESK_HSTS_SECONDS", 31_536_000) if KIWIDESK_SECURE_COOKIES else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = False  # the operator's other hosts are not ours to decide
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("KIWIDESK_BEHIND_PROXY", False) else None
)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content Security Policy (django-csp 4). Templates carry no inline script, style
# attribute or on* handler: behaviour lives in static/kiwidesk/*.js (docs/security.md).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}
# Pages that need more than the policy above, by path prefix (kiwidesk.web.security).
# The web-chat demo page stands for a customer's site: it styles itself inline and the
# widget brings its own <style>. (Swagger UI at /api/docs needs nothing more.)
KIWIDESK_CSP_PATH_UPDATES = {
    "/channels/chat/demo/": {"style-src": ["'unsafe-inline'"]},
}

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("KIWIDESK_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on every request otherwise
MEDIA_URL = "/media/"
MEDIA_ROOT = DATA_DIR / "media"
# Encryption at rest (docs/encryption.md): "id:base64-32-bytes,..."; the first key encrypts,
# the others only decrypt. Empty: a key generated once into the data folder (demo only).
KIWIDESK_ENCRYPTION_KEYS = env_secret("KIWIDESK_ENCRYPTION_KEYS") or ""
STORAGES = {
    # Attachments, raw mail and recordings are encrypted on disk with the same keys.
    "default": {"BACKEND": "kiwidesk.vault.storage.EncryptedFileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# Request bodies: the API accepts up to 10 MB (attachments), then answers 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("KIWIDESK_MAX_UPLOAD_BYTES", 10 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
KIWIDESK_MAX_ATTACHMENT_BYTES = env_int("KIWIDESK_MAX_ATTACHMENT_BYTES", 10 * 1024 * 1024)

TASKS = {
    "default": {
        "BACKEND": env_str("KIWIDESK_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("KIWIDESK_LOG_LEVEL", "WARNING")},
}

# SMS and WhatsApp channels. Each is off until its secrets are set: a webhook whose
# secret is empty refuses every request (403).
# The base URL providers call (https://help.example.org): signatures cover the URL as
# the provider saw it, which behind a proxy is not the one Django sees.
KIWIDESK_PUBLIC_URL = env_str("KIWIDESK_PUBLIC_URL", "")
KIWIDESK_TWILIO_ACCOUNT_SID = env_str("KIWIDESK_TWILIO_ACCOUNT_SID", "")
KIWIDESK_TWILIO_AUTH_TOKEN = env_secret("KIWIDESK_TWILIO_AUTH_TOKEN") or ""
KIWIDESK_TWILIO_SMS_FROM = env_str("KIWIDESK_TWILIO_SMS_FROM", "")
KIWIDESK_TWILIO_WHATSAPP_FROM = env_str("KIWIDESK_TWILIO_WHATSAPP_FROM", "")
# Where Twilio's REST API is: recordings and media are downloaded only from this host,
# with the account's credentials (a test points it at a local server).
KIWIDESK_TWILIO_API_BASE_URL = env_str("KIWIDESK_TWILIO_API_BASE_URL", "https://api.twilio.com")
KIWIDESK_WHATSAPP_APP_SECRET = env_secret("KIWIDESK_WHATSAPP_APP_SECRET") or ""
KIWIDESK_WHATSAPP_VERIFY_TOKEN = env_secret("KIWIDESK_WHATSAPP_VERIFY_TOKEN") or ""
KIWIDESK_WHATSAPP_ACCESS_TOKEN = env_secret("KIWIDESK_WHATSAPP_ACCESS_TOKEN") or ""
KIWIDESK_WHATSAPP_PHONE_NUMBER_ID = env_str("KIWIDESK_WHATSAPP_PHONE_NUMBER_ID", "")
KIWIDESK_WHATSAPP_GRAPH_URL = env_str(
    "KIWIDESK_WHATSAPP_GRAPH_URL", "https://graph.facebook.com/v23.0"
)


def _email_backend(provider: str) -> str:
    """SMTP, or anymail's backend for a mail provider's API (mailgun, mandrill, postmark…)."""
    if not provider:
        return "django.core.mail.backends.smtp.EmailBackend"
    module = f"anymail.backends.{provider}"
    if not re.fullmatch(r"[a-z0-9_]+", provider) or importlib.util.find_spec(module) is None:
        raise ConfigError(f"KIWIDESK_EMAIL_PROVIDER={provider!r}: anymail has no such provider")
    return f"{module}.EmailBackend"


# Outbound email. Django's SMTP backend by default; KIWIDESK_EMAIL_PROVIDER sends through
# that provider's API with anymail, and KIWIDESK_EMAIL_BACKEND may name any other
# backend (console for a demo).
KIWIDESK_EMAIL_PROVIDER = env_str("KIWIDESK_EMAIL_PROVIDER", "").strip().lower()
EMAIL_BACKEND = env_str("KIWIDESK_EMAIL_BACKEND", _email_backend(KIWIDESK_EMAIL_PROVIDER))
EMAIL_HOST = env_str("KIWIDESK_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("KIWIDESK_EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("KIWIDESK_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_secret("KIWIDESK_EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = env_bool("KIWIDESK_EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("KIWIDESK_EMAIL_USE_SSL", False)
# A hung server must fail the attempt well before the outbox counts a send as stalled.
EMAIL_TIMEOUT = env_int("KIWIDESK_EMAIL_TIMEOUT", 30)
# Where the file-based backend (the demo's) writes each mail it "sends".
EMAIL_FILE_PATH = DATA_DIR / "sent-mail"
# The From of outbound mail for a case whose team has no address of its own; replies
# come back to <local part>+<reply token>@<domain> of the address used.
KIWIDESK_EMAIL_FROM = env_str("KIWIDESK_EMAIL_FROM", "Kiwidesk <support@localhost>")

ANYMAIL_PREFIX = "KIWIDESK_ANYMAIL_"


def anymail_from_environment() -> dict[str, object]:
    """ANYMAIL from each KIWIDESK_ANYMAIL_<SETTING> variable, or the file its _FILE names.

    E.g. KIWIDESK_ANYMAIL_MAILGUN_API_KEY, …_MAILGUN_WEBHOOK_SIGNING_KEY,
    …_MANDRILL_WEBHOOK_KEY, …_MAILGUN_API_URL: keys and URLs of providers, never the
    repository's. An API call gives up after EMAIL_TIMEOUT seconds unless
    KIWIDESK_ANYMAIL_REQUESTS_TIMEOUT says otherwise.
    """
    names = {
        key.removeprefix(ANYMAIL_PREFIX).removesuffix("_FILE")
        for key in os.environ
        if key.startswith(ANYMAIL_PREFIX)
    }
    config: dict[str, object] = {name: env_secret(ANYMAIL_PREFIX + name) for name in sorted(names)}
    config["REQUESTS_TIMEOUT"] = env_int(f"{ANYMAIL_PREFIX}REQUESTS_TIMEOUT", EMAIL_TIMEOUT)
    return config


# Mail providers' API keys and inbound webhooks' signing keys (channels/email/README.md).
ANYMAIL = anymail_from_environment()

# Web chat. The sites (origins such as https://www.example.org) whose pages may run the
# widget; our own origin always may, "*" allows any. A chat ends after this many
# minutes without a heartbeat from the visitor's page. Each open widget holds one of
# the server's threads while it waits for news: at most KIWIDESK_CHAT_MAX_STREAMS do,
# the rest poll every few seconds instead (keep it below `serve --threads`).
KIWIDESK_CHAT_ORIGINS = env_list("KIWIDESK_CHAT_ORIGINS", [])
KIWIDESK_CHAT_IDLE_MINUTES = env_int("KIWIDESK_CHAT_IDLE_MINUTES", 10)
KIWIDESK_CHAT_MAX_STREAMS = env_int("KIWIDESK_CHAT_MAX_STREAMS", 4)
KIWIDESK_CHAT_DEMO = env_bool("KIWIDESK_CHAT_DEMO", False)
