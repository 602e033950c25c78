"""The widget's endpoints: its script, start, post, identify and confirm, end, the stream.

Each parses the request's shape, finds the session by its token, and calls a service.
Every refusal is a JSON body {"error": "..."} with a 4xx status, never a 500.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from kiwidesk.accounts.models import Team
from kiwidesk.cases.outbox import SendError
from kiwidesk.channels.webchat import cors, services, stream, verification
from kiwidesk.channels.webchat.models import ChatSession
from kiwidesk.contacts.services import InvalidIdentityError

logger = logging.getLogger(__name__)

WIDGET_JS = Path(__file__).resolve().parent / "static" / "webchat" / "widget.js"
# A chat message is typed by a person; the JSON around it is small.
MAX_TEXT_CHARS = 4000
MAX_BODY_BYTES = 16 * 1024
MAX_CLIENT_ID_CHARS = 64
CODE_SHAPE = re.compile(rf"[0-9]{{{verification.CODE_DIGITS}}}")

Handler = Callable[..., HttpResponseBase]


class ChatRequestError(Exception):
    """A request the chat refuses: its HTTP status and the message shown to the visitor."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def chat_endpoint(*methods: str) -> Callable[[Handler], Handler]:
    """Check the origin, answer preflights and refusals as JSON, add the CORS headers.

    No cookies are read or set and CSRF does not apply: the visitor's token is sent
    explicitly, so another site cannot make a browser use it.
    """

    def decorate(view: Handler) -> Handler:
        @csrf_exempt
        @wraps(view)
        def endpoint(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not cors.is_allowed(request):
                origin = cors.origin_of(request)[:100]
                return _error(403, f"The site {origin} may not use this chat.")
            if request.method == "OPTIONS":
                return cors.preflight(HttpResponse(status=204), request)
            if request.method not in methods:
                return cors.allow(_error(405, f"Use {' or '.join(methods)}."), request)
            try:
                response = view(request, *args, **kwargs)
            except ChatRequestError as refusal:
                response = _error(refusal.status, refusal.message)
            return cors.allow(response, request)

        return endpoint

    return decorate


def widget_js(request: HttpRequest) -> HttpResponse:
    """The widget's script, for any site's <script src> (no CORS needed for scripts)."""
    response = HttpResponse(_widget_source(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


@chat_endpoint("POST")
def start(request: HttpRequest) -> HttpResponseBase:
    body = _json_body(request)
    try:
        started = services.start_session(
            team_slug=_text_field(body, "team", limit=100),
            origin=cors.origin_of(request),
            client_address=request.META.get("REMOTE_ADDR", ""),
        )
    except services.UnknownTeamError as error:
        raise ChatRequestError(400, str(error)) from None
    except services.TooManyChatsError as error:
        raise ChatRequestError(429, str(error)) from None
    return JsonResponse(
        {
            "token": started.token,
            "chat": started.session.public_id,
            "idle_minutes": settings.KIWIDESK_CHAT_IDLE_MINUTES,
        },
        status=201,
    )


@chat_endpoint("POST")
def post_message(request: HttpRequest) -> HttpResponseBase:
    session = _session(request)
    body = _json_body(request)
    client_id = _text_field(body, "id", limit=MAX_CLIENT_ID_CHARS, required=True)
    text = _text_field(body, "text", limit=MAX_TEXT_CHARS, required=True, status=413)
    try:
        entry = services.post_message(session, client_id=client_id, text=text)
    except services.ChatEndedError as error:
        raise ChatRequestError(409, str(error)) from None
    except services.ChatRateLimitedError as error:
        raise ChatRequestError(429, str(error)) from None
    return JsonResponse({"entry": stream.entry_data(entry)}, status=201)


@chat_endpoint("POST")
def identify(request: HttpRequest) -> HttpResponseBase:
    """The visitor's email address: a code goes to it; the chat joins it once confirmed."""
    session = _session(request)
    body = _json_body(request)
    email = _text_field(body, "email", limit=254, required=True)
    name = _text_field(body, "name", limit=200)
    try:
        pending = verification.request_email_code(session, email=email, name=name)
    except InvalidIdentityError:
        raise ChatRequestError(400, "That is not an email address.") from None
    except services.ChatEndedError as error:
        raise ChatRequestError(409, str(error)) from None
    except verification.TooManyCodesError as error:
        raise ChatRequestError(429, str(error)) from None
    except SendError as error:
        raise _not_mailed(error, email) from None
    minutes = int(verification.CODE_LIFETIME.total_seconds() // 60)
    return JsonResponse({"code_sent_to": pending.address, "expires_minutes": minutes}, status=202)


@chat_endpoint("POST")
def confirm(request: HttpRequest) -> HttpResponseBase:
    """The code the visitor was mailed: right, and the chat joins their address."""
    session = _session(request)
    body = _json_body(request)
    code = "".join(_text_field(body, "code", limit=20, required=True).split())
    if not CODE_SHAPE.fullmatch(code):
        raise ChatRequestError(400, f"The code is {verification.CODE_DIGITS} digits.")
    try:
        verification.confirm_email_code(session, code=code)
    except verification.WrongCodeError as error:
        raise ChatRequestError(400, str(error)) from None
    except verification.NoCodeError as error:
        raise ChatRequestError(400, str(error)) from None
    except verification.CodeExpiredError as error:
        raise ChatRequestError(410, str(error)) from None
    except verification.TooManyTriesError as error:
        raise ChatRequestError(429, str(error)) from None
    except services.ChatEndedError as error:
        raise ChatRequestError(409, str(error)) from None
    return JsonResponse({"email": session.email})


@chat_endpoint("POST")
def end(request: HttpRequest) -> HttpResponseBase:
    session = _session(request)
    services.end_session(session)
    return JsonResponse({"ended": True, "transcript_to": session.email})


@chat_endpoint("GET")
def events(request: HttpRequest) -> HttpResponseBase:
    """The visitor's SSE stream; the token is in the URL because EventSource sends no headers."""
    session = _session(request, token=request.GET.get("token", ""))
    try:
        after = stream.parse_event_id(
            request.headers.get("Last-Event-ID") or request.GET.get("after", "")
        )
    except ValueError as error:
        raise ChatRequestError(400, str(error)) from None
    services.mark_seen(session)
    response = StreamingHttpResponse(
        stream.stream(session.pk, after=after), content_type="text/event-stream"
    )
    response["Cache-Control"] = "no-cache, no-store"
    response["X-Accel-Buffering"] = "no"  # nginx would otherwise hold the events back
    return response


def demo(request: HttpRequest) -> HttpResponse:
    """A page that embeds the widget (only in DEBUG or with KIWIDESK_CHAT_DEMO)."""
    if not (settings.DEBUG or settings.KIWIDESK_CHAT_DEMO):
        raise Http404("The chat demo page is off.")
    slug = request.GET.get("team", "")
    team = Team.objects.filter(slug=slug).first() if slug else Team.objects.first()
    return render(
        request,
        "webchat/demo.html",
        {"widget_url": reverse("channels:webchat:widget"), "team": team},
    )


@functools.cache
def _widget_source() -> bytes:
    return WIDGET_JS.read_bytes()


def _not_mailed(error: SendError, email: str) -> ChatRequestError:
    logger.warning("chat code not mailed: %s", error)
    if error.is_permanent:
        return ChatRequestError(400, f"We could not send a code to {email}; check the address.")
    return ChatRequestError(503, "We could not send the code just now; try again in a minute.")


def _session(request: HttpRequest, *, token: str | None = None) -> ChatSession:
    if token is None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        token = token.strip() if scheme.lower() == "bearer" else ""
    if not token:
        raise ChatRequestError(401, "A chat token is required.")
    session = services.session_for_token(token[:100])
    if session is None:
        raise ChatRequestError(401, "This chat does not exist; start a new one.")
    return session


def _json_body(request: HttpRequest) -> dict[str, Any]:
    declared = request.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise ChatRequestError(413, f"The request is too large: at most {MAX_BODY_BYTES} bytes.")
    raw = request.body
    if len(raw) > MAX_BODY_BYTES:
        raise ChatRequestError(413, f"The request is too large: at most {MAX_BODY_BYTES} bytes.")
    try:
        body = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise ChatRequestError(400, "The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ChatRequestError(400, "The body must be a JSON object.")
    return body


def _text_field(
    body: dict[str, Any], name: str, *, limit: int, required: bool = False, status: int = 400
) -> str:
    value = body.get(name, "")
    if not isinstance(value, str):
        raise ChatRequestError(400, f"'{name}' must be a string.")
    if required and not value.strip():
        raise ChatRequestError(400, f"'{name}' is required.")
    if len(value) > limit:
        raise ChatRequestError(status, f"'{name}' is too long: at most {limit} characters.")
    return value.strip() if name != "text" else value


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)
