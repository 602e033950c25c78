"""The HTTP API under /api/v1: one router per domain, one way to fail."""

from __future__ import annotations

import json
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Router
from ninja.openapi.views import openapi_view
from ninja.parser import Parser

from kiwidesk.api import errors
from kiwidesk.api.audit import router as audit_router
from kiwidesk.api.auth import SessionAuth, TokenAuth
from kiwidesk.api.calls import router as calls_router
from kiwidesk.api.cases import router as cases_router
from kiwidesk.api.contacts import router as contacts_router
from kiwidesk.api.privacy import router as privacy_router
from kiwidesk.api.sla import router as sla_router
from kiwidesk.api.sla_management import router as sla_management_router
from kiwidesk.api.threads import router as threads_router
from kiwidesk.api.whatsapp import router as whatsapp_router


class ObjectParser(Parser):
    """Parse JSON bodies, which must be objects: `[]` or `3` is no case, thread or note."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        body = json.loads(request.body)
        if not isinstance(body, dict):
            raise errors.UnreadableBodyError("The body must be a JSON object.")
        try:
            # JSON may escape half a surrogate pair ("\ud800"), which is no text at all:
            # refuse it here rather than fail when the database encodes it.
            json.dumps(body, ensure_ascii=False).encode()
        except UnicodeEncodeError:
            raise errors.UnreadableBodyError(
                "The body holds an unpaired surrogate escape such as \\ud800."
            ) from None
        return body


api = NinjaAPI(
    title="Kiwidesk API",
    version="1",
    description="Cases, threads, messages and contacts. Authenticate with "
    "`Authorization: Bearer <token>` (`kiwidesk token EMAIL` issues one), or a browser session.",
    urls_namespace="api",
    docs_url="/docs",
    auth=[TokenAuth(), SessionAuth()],
    parser=ObjectParser(),
)
errors.install(api)
api.add_router("/cases", cases_router)
api.add_router("/threads", threads_router)
api.add_router("/contacts", contacts_router)
api.add_router("", calls_router)
api.add_router("", whatsapp_router)
api.add_router("", sla_router)
api.add_router("", sla_management_router)
api.add_router("", audit_router)
api.add_router("", privacy_router)

# Added last so it only sees paths no router claimed: an API client gets JSON, not
# the web UI's HTML page.
unknown_paths = Router()


@unknown_paths.api_operation(
    ["GET", "POST", "PUT", "PATCH", "DELETE"], "/{path:rest}", auth=None, include_in_schema=False
)
def unknown_path(request: HttpRequest, rest: str) -> None:
    raise Http404(rest)


api.add_router("", unknown_paths)


def docs(request: HttpRequest) -> HttpResponse:
    """The interactive docs, also at /api/docs where the architecture promises them."""
    return openapi_view(request, api=api)
