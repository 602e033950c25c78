"""Outbound mail through a provider's HTTP API (anymail's backends), and its refusals.

The provider is a local HTTP server on 127.0.0.1 speaking the documented API: Mailgun's
POST /v3/<domain>/messages (form fields, h:<Header> for our headers, answering
{"id", "message"}) and Mandrill's POST /messages/send.json (JSON, answering one status
per recipient). Anymail's backend is pointed at it through its API URL setting.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import parseaddr
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from kiwidesk import settings as kiwidesk_settings
from kiwidesk.accounts.models import Agent
from kiwidesk.cases.models import DeliveryStatus, Event, Message
from kiwidesk.cases.services import deliver_outbound, reply
from kiwidesk.channels.email import adapter
from kiwidesk.envconfig import ConfigError
from kiwidesk.ingest.services import IngestResult, ingest
from tests.channels.email.provider_webhooks import CUSTOMER, SUPPORT, customer_mail
from tests.channels.email.test_outbound import free_port

pytestmark = pytest.mark.django_db

MAILGUN_API_KEY = "key-mailgun-api-test"
CUSTOMER_MESSAGE_ID = "booking-question-1@mail.example.net"


@dataclass
class ProviderApi:
    """A provider's HTTP API on 127.0.0.1: records each request, answers as told."""

    url: str
    status: int = 200
    answer: Any = None
    requests: list[dict[str, Any]] = field(default_factory=list)

    def only_request(self) -> dict[str, Any]:
        (request,) = self.requests
        return request


def _handler(api: ProviderApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            api.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
            payload = json.dumps(api.answer).encode()
            self.send_response(api.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


@pytest.fixture
def provider_api() -> Iterator[ProviderApi]:
    port = free_port()
    api = ProviderApi(url=f"http://127.0.0.1:{port}")
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(api))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield api
    server.shutdown()
    server.server_close()


@pytest.fixture
def mailgun(provider_api: ProviderApi, settings: Any) -> ProviderApi:
    settings.EMAIL_BACKEND = "anymail.backends.mailgun.EmailBackend"
    settings.ANYMAIL = {
        "MAILGUN_API_KEY": MAILGUN_API_KEY,
        "MAILGUN_API_URL": f"{provider_api.url}/v3",
        "REQUESTS_TIMEOUT": 5,
    }
    settings.KIWIDESK_EMAIL_FROM = f"Harbour Help <{SUPPORT}>"
    provider_api.answer = {
        "id": "<20251123070000.1.ABC@help.example.org>",
        "message": "Queued. Thank you.",
    }
    return provider_api


@pytest.fixture
def mandrill(provider_api: ProviderApi, settings: Any) -> ProviderApi:
    settings.EMAIL_BACKEND = "anymail.backends.mandrill.EmailBackend"
    settings.ANYMAIL = {
        "MANDRILL_API_KEY": "mandrill-api-key-test",
        "MANDRILL_API_URL": f"{provider_api.url}/api/1.0",
        "REQUESTS_TIMEOUT": 5,
    }
    settings.KIWIDESK_EMAIL_FROM = f"Harbour Help <{SUPPORT}>"
    provider_api.answer = [
        {
            "email": CUSTOMER,
            "status": "sent",
            "_id": "abc123abc123abc123abc123",
            "reject_reason": None,
        }
    ]
    return provider_api


@pytest.fixture
def question() -> IngestResult:
    return ingest(adapter.parse(customer_mail(), "provider:mailgun:" + SUPPORT))


def send_answer(agent: Agent, question: IngestResult) -> Message:
    message = reply(agent, question.thread, text="Friday at 19:00 is booked for you.")
    deliver_outbound(message.pk)
    message.refresh_from_db()
    return message


def mailgun_fields(api: ProviderApi) -> dict[str, list[str]]:
    return parse_qs(api.only_request()["body"].decode())


def test_mailgun_is_called_at_the_senders_domain_with_the_api_key(
    mailgun: ProviderApi, agent: Agent, question: IngestResult
) -> None:
    send_answer(agent, question)

    request = mailgun.only_request()
    assert request["path"] == "/v3/help.example.org/messages"
    assert request["headers"]["Authorization"] == "Basic YXBpOmtleS1tYWlsZ3VuLWFwaS10ZXN0"


def test_mailgun_receives_our_message_id_which_is_the_stored_external_id(
    mailgun: ProviderApi, agent: Agent, question: IngestResult
) -> None:
    message = send_answer(agent, question)

    assert message.delivery_status == DeliveryStatus.SENT
    assert mailgun_fields(mailgun)["h:Message-Id"] == [f"<{message.external_id}>"]
    assert message.external_id.endswith("@help.example.org")


def test_mailgun_receives_the_threading_headers_of_the_conversation(
    mailgun: ProviderApi, agent: Agent, question: IngestResult
) -> None:
    send_answer(agent, question)

    fields = mailgun_fields(mailgun)
    assert fields["h:In-Reply-To"] == [f"<{CUSTOMER_MESSAGE_ID}>"]
    assert fields["h:References"] == [f"<{CUSTOMER_MESSAGE_ID}>"]


def test_mailgun_receives_the_threads_reply_address_subject_and_recipient(
    mailgun: ProviderApi, agent: Agent, question: IngestResult
) -> None:
    send_answer(agent, question)

    fields = mailgun_fields(mailgun)
    assert fields["h:Reply-To"] == [f"support+{question.thread.reply_token}@help.example.org"]
    assert fields["subject"] == [f"Re: Booking for Friday [#{question.case.pk}]"]
    assert [parseaddr(to)[1] for to in fields["to"]] == [CUSTOMER]
    assert fields["from"] == [f"Harbour Help <{SUPPORT}>"]
    assert fields["text"] == ["Friday at 19:00 is booked for you."]


def test_mandrill_receives_our_message_id_and_threading_headers(
    mandrill: ProviderApi, agent: Agent, question: IngestResult
) -> None:
    message = send_answer(agent, question)

    request = mandrill.only_request()
    assert request["path"] == "/api/1.0/messages/send.json"
    headers = json.loads(request["body"])["message"]["headers"]
    assert headers["Message-ID"] == f"<{message.external_id}>"
    assert headers["In-Reply-To"] == f"<{CUSTOMER_MESSAGE_ID}>"
    assert headers["References"] == f"<{CUSTOMER_MESSAGE_ID}>"
    assert headers["Reply-To"] == f"support+{question.thread.reply_token}@help.example.org"


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_a_rejection_by_the_provider_fails_the_message_with_an_event(
    mailgun: ProviderApi, agent: Agent, question: IngestResult, status: int
) -> None:
    mailgun.status = status
    mailgun.answer = {
        "message": "'from' parameter is not a valid address. please check documentation"
    }

    message = send_answer(agent, question)

    assert message.delivery_status == DeliveryStatus.FAILED
    event = Event.objects.filter(message=message).latest("pk")
    assert event.payload["error"].startswith(f"The mail provider refused the message ({status})")


@pytest.mark.parametrize("status", [408, 425, 429, 500, 502, 503])
def test_a_provider_failing_for_now_leaves_the_message_pending_for_a_retry(
    mailgun: ProviderApi, agent: Agent, question: IngestResult, status: int
) -> None:
    mailgun.status = status
    mailgun.answer = {"message": "try again later"}

    message = send_answer(agent, question)

    assert message.delivery_status == DeliveryStatus.PENDING
    assert message.outbox_item.attempts == 1


def test_an_unreachable_provider_leaves_the_message_pending_for_a_retry(
    mailgun: ProviderApi, agent: Agent, question: IngestResult, settings: Any
) -> None:
    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_API_URL": f"http://127.0.0.1:{free_port()}/v3"}

    message = send_answer(agent, question)

    assert message.delivery_status == DeliveryStatus.PENDING


def test_a_recipient_the_provider_rejects_fails_the_message_for_good(
    mandrill: ProviderApi, agent: Agent, question: IngestResult
) -> None:
    mandrill.answer = [
        {"email": CUSTOMER, "status": "rejected", "_id": "abc", "reject_reason": "hard-bounce"}
    ]

    message = send_answer(agent, question)

    assert message.delivery_status == DeliveryStatus.FAILED
    event = Event.objects.filter(message=message).latest("pk")
    assert event.payload["error"].startswith("The mail provider refused the recipient")


def test_a_provider_without_an_api_key_fails_the_message_saying_so(
    mailgun: ProviderApi, agent: Agent, question: IngestResult, settings: Any
) -> None:
    settings.ANYMAIL = {"MAILGUN_API_URL": f"{mailgun.url}/v3"}

    message = send_answer(agent, question)

    assert message.delivery_status == DeliveryStatus.FAILED
    assert mailgun.requests == []
    event = Event.objects.filter(message=message).latest("pk")
    assert event.payload["error"].startswith("The mail provider is not configured")


def test_the_customers_answer_to_a_provider_sent_mail_threads_back(
    mailgun: ProviderApi, agent: Agent, question: IngestResult
) -> None:
    ours = send_answer(agent, question)
    answer = customer_mail(
        body="Thank you!", message_id="thanks-3@mail.example.net", in_reply_to=ours.external_id
    )

    result = ingest(adapter.parse(answer, "provider:mailgun:" + SUPPORT))

    assert (result.case, result.thread) == (question.case, question.thread)
    assert result.created_case is False


def test_the_environment_fills_anymail_settings_with_secrets_from_files(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    key_file = tmp_path / "signing-key"
    key_file.write_text("from-a-file\n")
    monkeypatch.setenv("KIWIDESK_ANYMAIL_MAILGUN_API_KEY", "key-from-env")
    monkeypatch.setenv("KIWIDESK_ANYMAIL_MAILGUN_WEBHOOK_SIGNING_KEY_FILE", str(key_file))
    monkeypatch.setenv("KIWIDESK_ANYMAIL_REQUESTS_TIMEOUT", "12")

    config = kiwidesk_settings.anymail_from_environment()

    assert config == {
        "MAILGUN_API_KEY": "key-from-env",
        "MAILGUN_WEBHOOK_SIGNING_KEY": "from-a-file",
        "REQUESTS_TIMEOUT": 12,
    }


def test_a_named_provider_selects_anymails_backend() -> None:
    assert kiwidesk_settings._email_backend("mailgun") == "anymail.backends.mailgun.EmailBackend"


def test_no_provider_keeps_smtp() -> None:
    assert kiwidesk_settings._email_backend("") == "django.core.mail.backends.smtp.EmailBackend"


@pytest.mark.parametrize("name", ["carrier_pigeon", "../smtp", "Mailgun"])
def test_an_unknown_provider_is_a_configuration_error(name: str) -> None:
    with pytest.raises(ConfigError, match="anymail has no such provider"):
        kiwidesk_settings._email_backend(name)
