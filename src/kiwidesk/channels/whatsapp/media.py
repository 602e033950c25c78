"""A WhatsApp message with its photo, voice note or document downloaded from Meta.

Meta's webhook names a media id; the Graph API turns it into a short-lived URL,
and both requests carry the business's access token, as Meta documents.
"""

from __future__ import annotations

from functools import partial

from django.conf import settings

from kiwidesk.cases.content import NewAttachment
from kiwidesk.channels import media
from kiwidesk.channels.twilio.media import parse_with_media as parse_twilio_with_media
from kiwidesk.channels.whatsapp import adapter
from kiwidesk.ingest.contract import InboundMessage


def parse_with_media(raw: bytes, source: str = "") -> InboundMessage:
    """`adapter.parse` of one envelope, plus its media fetched through the Graph API."""
    message = adapter.parse(raw, source)
    return media.with_downloads(
        message, [(ref.label, partial(_fetch, ref)) for ref in adapter.media_refs(raw)]
    )


def parse_any_with_media(raw: bytes, source: str = "") -> InboundMessage:
    """A quarantined WhatsApp body from Meta (JSON) or from Twilio (a form), media included."""
    if raw.lstrip().startswith(b"{"):
        return parse_with_media(raw, source)
    return parse_twilio_with_media(raw, source)


def _fetch(ref: adapter.MediaRef) -> NewAttachment:
    token: str = settings.KIWIDESK_WHATSAPP_ACCESS_TOKEN
    if not token:
        raise media.MediaUnavailableError("KIWIDESK_WHATSAPP_ACCESS_TOKEN is not set")
    bearer = {"Authorization": f"Bearer {token}"}
    graph: str = settings.KIWIDESK_WHATSAPP_GRAPH_URL
    found = media.look_up(f"{graph.rstrip('/')}/{ref.media_id}", headers=bearer)
    url = found.get("url")
    if not isinstance(url, str) or not url:
        raise media.MediaUnavailableError(f"Meta gave no address for media {ref.media_id}")
    content_type = ref.mime_type or str(found.get("mime_type", ""))
    return media.download(url, name=ref.filename, headers=bearer, content_type=content_type)
