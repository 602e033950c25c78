"""Which sites may run the widget: the chat endpoints answer only their origins.

The widget runs on a customer's site and calls us cross-origin without cookies (its
token travels in a header or the stream URL), so CORS here only says which sites may
embed the chat; the token is what authenticates the visitor.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

ALLOWED_METHODS = "GET, POST, OPTIONS"
ALLOWED_HEADERS = "Authorization, Content-Type, Last-Event-ID"
PREFLIGHT_MAX_AGE = "600"


def origin_of(request: HttpRequest) -> str:
    """The Origin the browser sent, or "" when it sent none (same-origin GET, curl)."""
    return request.headers.get("Origin", "").strip()


def is_allowed(request: HttpRequest) -> bool:
    """A request without an Origin, from our own origin, or from a configured one.

    KIWIDESK_CHAT_ORIGINS lists origins (https://www.example.org); "*" allows any.
    """
    origin = origin_of(request)
    if not origin:
        return True
    allowed: list[str] = settings.KIWIDESK_CHAT_ORIGINS
    return "*" in allowed or origin in allowed or origin in _own_origins(request)


def allow(response: HttpResponseBase, request: HttpRequest) -> HttpResponseBase:
    """Add the headers that let the requesting (allowed) origin read `response`."""
    origin = origin_of(request)
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Vary"] = "Origin"
    return response


def preflight(response: HttpResponseBase, request: HttpRequest) -> HttpResponseBase:
    allow(response, request)
    response["Access-Control-Allow-Methods"] = ALLOWED_METHODS
    response["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
    response["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
    return response


def _own_origins(request: HttpRequest) -> set[str]:
    own = {f"{request.scheme}://{request.get_host()}"}
    public: str = settings.KIWIDESK_PUBLIC_URL
    if public:
        parts = urlsplit(public)
        own.add(f"{parts.scheme}://{parts.netloc}")
    return own
