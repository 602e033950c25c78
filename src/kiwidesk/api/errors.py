"""Every refusal answers JSON `{"detail": ...}` with a 4xx status, never a 500.

The domain raises its own errors (a merge that cannot happen, an empty message);
this module is the one place that turns each into a status code and a message.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError

from kiwidesk.cases.content import AttachmentRefusedError
from kiwidesk.cases.services import CaseMergedError, EmptyMessageError, MergeError
from kiwidesk.channels.common import OutsideMessagingWindowError
from kiwidesk.channels.whatsapp.templates import TemplateRefusedError
from kiwidesk.contacts.services import InvalidIdentityError
from kiwidesk.privacy.access import (
    ActionNotAllowedError,
    CaseNotFoundError,
    ClearanceError,
    ClearanceRequiredError,
    SecondFactorRequiredError,
)
from kiwidesk.privacy.break_glass import BreakGlassRefusedError
from kiwidesk.privacy.disclosure import DisclosureNotConfirmedError


class ThreadNotFoundError(LookupError):
    """No such thread, or its case is not one the agent may open."""


class ContactNotFoundError(LookupError):
    """No contact with that id."""


class UnknownReferenceError(ValueError):
    """A body field names an agent, team or contact that does not exist."""


class UnreadableBodyError(ValueError):
    """Valid JSON, but not an object, or holding text no database can store."""


class ConflictError(ValueError):
    """The request would duplicate something that already exists."""


def _detail(api: NinjaAPI, status: int, message: str) -> Callable[..., HttpResponse]:
    def handle(request: HttpRequest, exc: Exception) -> HttpResponse:
        return api.create_response(request, {"detail": message.format(exc=exc)}, status=status)

    return handle


def _http_error(api: NinjaAPI) -> Callable[..., HttpResponse]:
    """Answer ninja's own errors, naming what is wrong with an unparseable body.

    Ninja wraps every parse failure in one "Cannot parse request body"; the cause
    says more, and a client fixing its request needs that.
    """

    def handle(request: HttpRequest, exc: HttpError) -> HttpResponse:
        cause = exc.__cause__
        message = str(exc)
        if isinstance(cause, json.JSONDecodeError):
            message = f"The body is not valid JSON: {cause.msg} at line {cause.lineno}."
        elif isinstance(cause, UnicodeDecodeError):
            message = "The body is not valid JSON: it is not UTF-8."
        elif isinstance(cause, UnreadableBodyError):
            message = str(cause)
        return api.create_response(request, {"detail": message}, status=exc.status_code)

    return handle


def _too_big(api: NinjaAPI) -> Callable[..., HttpResponse]:
    def handle(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        message = f"The request body is larger than the limit of {limit} bytes."
        return api.create_response(request, {"detail": message}, status=413)

    return handle


def _disclosure(api: NinjaAPI) -> Callable[..., HttpResponse]:
    """Name what would leave, by type and offset (never the value), so a client can ask."""

    def handle(request: HttpRequest, exc: DisclosureNotConfirmedError) -> HttpResponse:
        found = [{"type": d.type, "start": d.start, "end": d.end} for d in exc.disclosures]
        body = {"detail": f"{exc} Send again with confirm_pii true.", "disclosures": found}
        return api.create_response(request, body, status=409)

    return handle


def install(api: NinjaAPI) -> None:
    """Register the handlers on `api`; the most specific class wins."""
    handlers: list[tuple[type[Exception], int, str]] = [
        (
            AuthenticationError,
            401,
            "Authentication required: send 'Authorization: Bearer <token>'.",
        ),
        (CaseNotFoundError, 404, "Case {exc} not found."),
        (
            ClearanceRequiredError,
            403,
            "{exc} To open it for a while, POST a reason to "
            "/api/v1/cases/{exc.case_id}/break-glass (the leads are told).",
        ),
        (SecondFactorRequiredError, 403, "{exc}"),
        (ActionNotAllowedError, 403, "{exc}"),
        (BreakGlassRefusedError, 422, "{exc}"),
        (ClearanceError, 403, "{exc}"),
        (ThreadNotFoundError, 404, "Thread {exc} not found."),
        (ContactNotFoundError, 404, "Contact {exc} not found."),
        (Http404, 404, "Not found."),
        (MergeError, 400, "Cannot merge: {exc}."),
        (CaseMergedError, 409, "The {exc}; act on that case instead."),
        (ConflictError, 409, "{exc}"),
        (EmptyMessageError, 422, "The message is empty: {exc}."),
        (AttachmentRefusedError, 422, "Attachment refused: {exc}."),
        (InvalidIdentityError, 422, "Invalid address: {exc}."),
        (UnknownReferenceError, 422, "{exc}"),
        (OutsideMessagingWindowError, 422, "Not sent: {exc}"),
        (TemplateRefusedError, 422, "Not sent: {exc}"),
    ]
    for exc_class, status, message in handlers:
        api.add_exception_handler(exc_class, _detail(api, status, message))
    api.add_exception_handler(RequestDataTooBig, _too_big(api))
    api.add_exception_handler(DisclosureNotConfirmedError, _disclosure(api))
    api.add_exception_handler(HttpError, _http_error(api))
