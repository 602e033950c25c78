"""Twilio webhooks signed the way Twilio signs them, with Twilio's own library."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import pytest
from django.http import QueryDict
from django.test import Client
from twilio.http import HttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator

from kiwidesk.accounts.models import Agent
from kiwidesk.cases.models import Channel, Message
from kiwidesk.cases.services import reply
from kiwidesk.contacts.models import IdentityKind
from kiwidesk.contacts.services import find_or_create_contact
from tests.factories.cases import customer_thread, make_case
from tests.queue import queue_commits

AUTH_TOKEN = "test-twilio-auth-token"
ACCOUNT_SID = "AC00000000000000000000000000000001"
SUPPORT_NUMBER = "+447700900999"
CUSTOMER_NUMBER = "+447700900123"
MESSAGES_PATH = "/channels/twilio/messages/"
STATUS_PATH = "/channels/twilio/status/"


IMMEDIATE_TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def _tasks_run_at_once(settings: Any) -> None:
    settings.TASKS = IMMEDIATE_TASKS


@pytest.fixture(autouse=True)
def _twilio_settings(settings: pytest.FixtureRequest) -> None:
    settings.KIWIDESK_TWILIO_ACCOUNT_SID = ACCOUNT_SID  # type: ignore[attr-defined]
    settings.KIWIDESK_TWILIO_AUTH_TOKEN = AUTH_TOKEN  # type: ignore[attr-defined]
    settings.KIWIDESK_TWILIO_SMS_FROM = SUPPORT_NUMBER  # type: ignore[attr-defined]
    settings.KIWIDESK_TWILIO_WHATSAPP_FROM = SUPPORT_NUMBER  # type: ignore[attr-defined]
    settings.KIWIDESK_PUBLIC_URL = ""  # type: ignore[attr-defined]


def form(**fields: str) -> bytes:
    return urlencode(fields).encode()


def sms_form(
    *,
    sid: str = "SM0123456789abcdef0123456789abcdef",
    body: str = "Is my booking on?",
    **extra: str,
) -> bytes:
    fields = {
        "MessageSid": sid,
        "SmsMessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": CUSTOMER_NUMBER,
        "To": SUPPORT_NUMBER,
        "Body": body,
        "NumMedia": "0",
        "ApiVersion": "2010-04-01",
    }
    return form(**{**fields, **extra})


def signature(url: str, body: bytes, token: str = AUTH_TOKEN) -> str:
    return str(RequestValidator(token).compute_signature(url, QueryDict(body)))


def post_signed(
    client: Client,
    path: str,
    body: bytes,
    *,
    url: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Any:
    """POST a form as Twilio does, signed for the URL it called (the test server's by default)."""
    signed = {"X-Twilio-Signature": signature(url or f"http://testserver{path}", body)}
    # The webhook only stores the body; its task runs when the request's insert commits.
    with queue_commits(execute=True):
        return client.post(
            path,
            data=body,
            content_type="application/x-www-form-urlencoded",
            headers={**signed, **(headers or {})},
        )


def outbound(
    agent: Agent,
    *,
    channel: str = Channel.SMS,
    number: str = CUSTOMER_NUMBER,
    text: str = "Your booking is confirmed for 19:00.",
    inbound_at: datetime | None = None,
    reply_at: datetime | None = None,
) -> Message:
    """A pending reply to a customer who wrote in on `channel` from `number`."""
    kind = IdentityKind.WHATSAPP if channel == Channel.WHATSAPP else IdentityKind.PHONE
    customer = find_or_create_contact(kind, number, name="Customer Example")
    case = make_case(customer=customer, channel=channel, at=inbound_at)
    return reply(agent, customer_thread(case), text=text, at=reply_at)


class RecordingHttpClient(HttpClient):  # type: ignore[misc]
    """Twilio's transport replaced: records each request, answers with a canned response."""

    def __init__(self, *, status: int = 201, body: dict[str, Any] | None = None) -> None:
        super().__init__(logger=logging.getLogger(__name__), is_async=False)
        self.status = status
        self.body = body if body is not None else created_message()
        self.requests: list[dict[str, Any]] = []

    def request(
        self,
        method: str,
        uri: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        self.requests.append({"method": method, "uri": uri, "data": data, "auth": auth})
        return Response(self.status, json.dumps(self.body))


def created_message(sid: str = "SM5ef8732a3c49700934481addd5ce1659") -> dict[str, Any]:
    """The JSON Twilio documents for a created Message resource."""
    return {
        "account_sid": ACCOUNT_SID,
        "api_version": "2010-04-01",
        "body": "Your booking is confirmed for 19:00.",
        "date_created": "Thu, 24 Aug 2023 05:01:45 +0000",
        "date_sent": None,
        "date_updated": "Thu, 24 Aug 2023 05:01:45 +0000",
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": SUPPORT_NUMBER,
        "messaging_service_sid": None,
        "num_media": "0",
        "num_segments": "1",
        "price": None,
        "price_unit": None,
        "sid": sid,
        "status": "queued",
        "subresource_uris": {
            "media": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}/Media.json"
        },
        "to": CUSTOMER_NUMBER,
        "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json",
    }
