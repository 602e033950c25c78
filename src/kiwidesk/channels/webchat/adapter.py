"""The web chat channel's sender: an agent's reply goes to the visitor's stream, or by email.

Inbound needs no parser here: the chat's own endpoints (views.py) build each
InboundMessage and hand it to ingest (services.post_message).
"""

from __future__ import annotations

from kiwidesk.cases.models import Message
from kiwidesk.cases.outbox import SendError
from kiwidesk.channels.email import outbound
from kiwidesk.channels.webchat import services

LEFT_WITHOUT_EMAIL = "The visitor has left and gave no email address."


def send(message: Message) -> str:
    """Publish `message` to the visitor's chat, or mail it once they have left.

    Returns the provider id the outbox records: `chat:<session>:<entry id>` for a
    message on the stream, the Message-ID for a mail. Raises a permanent SendError
    when the visitor has left and there is no address to mail.
    """
    session = services.latest_session(message.thread)
    if session is not None and not session.has_ended:
        entry = services.publish(session, message)
        return f"chat:{session.public_id}:{entry.pk}"
    if services.has_email_address(message.thread):
        return outbound.send(message)
    raise SendError(LEFT_WITHOUT_EMAIL, is_permanent=True)
