"""A small client for the Graph API's messages endpoint (urllib: one POST needs no library)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from django.conf import settings

from kiwidesk.channels.common import DeliveryError

TIMEOUT_SECONDS = 10

# Graph error codes that a later retry can cure: rate limits and temporary outages.
# Anything else (a bad number, a closed window, an unapproved template) is permanent.
TRANSIENT_CODES = frozenset({1, 2, 4, 17, 80007, 130429, 131016, 131048, 131056})


class GraphClient:
    """POST /{phone_number_id}/messages with the business's access token."""

    def __init__(self, *, base_url: str, access_token: str, phone_number_id: str) -> None:
        self.url = f"{base_url.rstrip('/')}/{phone_number_id}/messages"
        self.access_token = access_token

    def send_message(self, payload: dict[str, Any]) -> str:
        """Send one message payload; return the wamid Meta gave it, or raise DeliveryError."""
        request = urllib.request.Request(  # noqa: S310 - the configured https Graph URL
            self.url,
            data=json.dumps(payload).encode(),
            method="POST",
            headers={
                "Authorization": f"Bearer {self.access_token}",
                "Content-Type": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
                answer = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise _refusal(exc) from exc
        except (urllib.error.URLError, TimeoutError, ValueError) as exc:
            raise DeliveryError(f"Graph API unreachable: {exc}", is_permanent=False) from exc
        return str(answer["messages"][0]["id"])


def graph_client() -> GraphClient:
    """The client for the configured WhatsApp Business phone number."""
    access_token: str = settings.KIWIDESK_WHATSAPP_ACCESS_TOKEN
    phone_number_id: str = settings.KIWIDESK_WHATSAPP_PHONE_NUMBER_ID
    if not access_token or not phone_number_id:
        raise DeliveryError(
            "KIWIDESK_WHATSAPP_ACCESS_TOKEN and KIWIDESK_WHATSAPP_PHONE_NUMBER_ID must be set",
            is_permanent=True,
        )
    return GraphClient(
        base_url=settings.KIWIDESK_WHATSAPP_GRAPH_URL,
        access_token=access_token,
        phone_number_id=phone_number_id,
    )


def _refusal(exc: urllib.error.HTTPError) -> DeliveryError:
    try:
        error = json.loads(exc.read()).get("error", {})
    except (ValueError, AttributeError):
        error = {}
    code = error.get("code") if isinstance(error, dict) else None
    transient = exc.code == 429 or exc.code >= 500 or code in TRANSIENT_CODES
    message = error.get("message", exc.reason) if isinstance(error, dict) else exc.reason
    return DeliveryError(
        f"Graph API refused the message ({exc.code}, error {code}): {message}",
        is_permanent=not transient,
    )
