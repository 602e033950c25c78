"""Mail providers' inbound webhooks as each provider documents them, signed its way.

Mailgun (a route's forward() action): form fields, signed with the hex HMAC-SHA256 of
timestamp + token under the webhook signing key. Mandrill (inbound webhook): a form
field `mandrill_events` holding a JSON list, signed in X-Mandrill-Signature with the
base64 HMAC-SHA1 of the webhook URL followed by each POST key and value in key order.
MailerSend (inbound route): a JSON body signed in the Signature header with the hex
HMAC-SHA256 of the body under the route's secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlencode

from django.test import Client

MAILGUN_KEY = "key-mailgun-webhook-signing-test"
MANDRILL_KEY = "mandrill-webhook-key-test"
MAILERSEND_SECRET = "mailersend-inbound-secret-test"

SUPPORT = "support@help.example.org"
CUSTOMER = "ana.customer@example.net"
TIMESTAMP = "1763880000"
TOKEN = "06c96bafc3f42a66b9edd546347a2fe18dc23461fe80dc52f0"


def anymail_keys() -> dict[str, object]:
    """ANYMAIL as settings.py builds it from KIWIDESK_ANYMAIL_* variables."""
    return {
        "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY,
        "MANDRILL_WEBHOOK_KEY": MANDRILL_KEY,
        "MAILERSEND_INBOUND_SECRET": MAILERSEND_SECRET,
        "REQUESTS_TIMEOUT": 5,
    }


def path(provider: str) -> str:
    return f"/channels/mail/{provider}/inbound/"


def customer_mail(
    *,
    body: str = "Can you move my booking to Friday?",
    subject: str = "Booking for Friday",
    sender: str = f"Ana Customer <{CUSTOMER}>",
    to: str = SUPPORT,
    message_id: str = "booking-question-1@mail.example.net",
    in_reply_to: str = "",
) -> bytes:
    mail = EmailMessage()
    if sender:
        mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = subject
    mail["Date"] = "Sun, 23 Nov 2025 07:00:00 +0000"
    mail["Message-ID"] = f"<{message_id}>"
    if in_reply_to:
        mail["In-Reply-To"] = f"<{in_reply_to}>"
        mail["References"] = f"<{in_reply_to}>"
    mail.set_content(body)
    return mail.as_bytes()


def mailgun_signature(timestamp: str, token: str, key: str = MAILGUN_KEY) -> str:
    return hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()


def mailgun_mime_fields(
    raw: bytes, *, recipient: str = SUPPORT, key: str = MAILGUN_KEY
) -> dict[str, str]:
    """A forward() post to a URL ending in "mime": the whole mail in body-mime."""
    return {
        "recipient": recipient,
        "sender": CUSTOMER,
        "from": f"Ana Customer <{CUSTOMER}>",
        "subject": "Booking for Friday",
        "body-mime": raw.decode("utf-8", "replace"),
        "timestamp": TIMESTAMP,
        "token": TOKEN,
        "signature": mailgun_signature(TIMESTAMP, TOKEN, key),
    }


def mailgun_parsed_fields(*, recipient: str = SUPPORT) -> dict[str, str]:
    """A forward() post with Mailgun's parsed fields and no raw MIME."""
    headers = [
        ["From", f"Ana Customer <{CUSTOMER}>"],
        ["To", recipient],
        ["Subject", "Parsed by Mailgun"],
        ["Date", "Sun, 23 Nov 2025 07:00:00 +0000"],
        ["Message-Id", "<parsed-by-mailgun-1@mail.example.net>"],
        ["Mime-Version", "1.0"],
    ]
    return {
        "recipient": recipient,
        "sender": CUSTOMER,
        "from": f"Ana Customer <{CUSTOMER}>",
        "subject": "Parsed by Mailgun",
        "message-headers": json.dumps(headers),
        "body-plain": "Is the shuttle included?",
        "stripped-text": "Is the shuttle included?",
        "timestamp": TIMESTAMP,
        "token": TOKEN,
        "signature": mailgun_signature(TIMESTAMP, TOKEN),
    }


def post_mailgun(client: Client, fields: dict[str, Any], *, url_path: str | None = None) -> Any:
    return client.post(url_path or path("mailgun"), data=fields)


def mandrill_inbound_event(raw: bytes, *, recipient: str = SUPPORT) -> dict[str, Any]:
    return {
        "event": "inbound",
        "ts": 1763880000,
        "msg": {
            "raw_msg": raw.decode("utf-8", "replace"),
            "email": recipient,
            "from_email": CUSTOMER,
            "from_name": "Ana Customer",
            "to": [[recipient, None]],
            "subject": "Booking for Friday",
            "text": "Can you move my booking to Friday?",
            "spam_report": {"score": 0.4, "matched_rules": []},
            "tags": [],
            "sender": None,
        },
    }


def mandrill_signature(url: str, fields: dict[str, str], key: str = MANDRILL_KEY) -> str:
    signed = url + "".join(name + fields[name] for name in sorted(fields))
    digest = hmac.new(key.encode(), signed.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def post_mandrill(
    client: Client,
    events: list[dict[str, Any]],
    *,
    signed_url: str = "http://testserver" + path("mandrill"),
    key: str = MANDRILL_KEY,
    signature: str | None = None,
) -> Any:
    fields = {"mandrill_events": json.dumps(events)}
    header = mandrill_signature(signed_url, fields, key) if signature is None else signature
    return client.post(
        path("mandrill"),
        data=urlencode(fields),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Mandrill-Signature": header} if header else {},
    )


def mailersend_body(raw: bytes, *, recipient: str = SUPPORT) -> bytes:
    payload = {
        "type": "inbound.message",
        "inbound_id": "inbound-route-1",
        "url": "https://help.example.org/channels/mail/mailersend/inbound/",
        "created_at": "2025-11-23T07:00:01.000000Z",
        "data": {
            "object": "message",
            "id": "6750ab1cdbd0f2a1e2f3a4b5",
            "recipients": {
                "rcptTo": [{"email": recipient}],
                "to": {"data": [{"email": recipient}]},
            },
            "from": {"email": CUSTOMER, "name": "Ana Customer"},
            "sender": {"email": CUSTOMER},
            "subject": "Booking for Friday",
            "raw": raw.decode("utf-8", "replace"),
            "created_at": "2025-11-23T07:00:00.000000Z",
        },
    }
    return json.dumps(payload).encode()


def post_mailersend(client: Client, body: bytes, *, secret: str = MAILERSEND_SECRET) -> Any:
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return client.post(
        path("mailersend"),
        data=body,
        content_type="application/json",
        headers={"Signature": signature},
    )


def post_signed(client: Client, provider: str, raw: bytes, *, recipient: str = SUPPORT) -> Any:
    """POST `raw` as `provider`'s inbound webhook delivers it, correctly signed."""
    if provider == "mailgun":
        return post_mailgun(client, mailgun_mime_fields(raw, recipient=recipient))
    if provider == "mandrill":
        return post_mandrill(client, [mandrill_inbound_event(raw, recipient=recipient)])
    return post_mailersend(client, mailersend_body(raw, recipient=recipient))


def post_wrongly_signed(client: Client, provider: str, raw: bytes) -> Any:
    """POST `raw` as `provider` would, but signed with another key."""
    if provider == "mailgun":
        return post_mailgun(client, mailgun_mime_fields(raw, key="not-the-key"))
    if provider == "mandrill":
        return post_mandrill(client, [mandrill_inbound_event(raw)], key="not-the-key")
    return post_mailersend(client, mailersend_body(raw), secret="not-the-secret")


def post_unsigned(client: Client, provider: str, raw: bytes) -> Any:
    """POST `raw` as `provider` would, with no signature at all."""
    if provider == "mailgun":
        fields = mailgun_mime_fields(raw)
        del fields["signature"]
        return post_mailgun(client, fields)
    if provider == "mandrill":
        return post_mandrill(client, [mandrill_inbound_event(raw)], signature="")
    return client.post(
        path("mailersend"), data=mailersend_body(raw), content_type="application/json"
    )
