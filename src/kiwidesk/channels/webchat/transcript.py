"""The transcript of a chat, mailed to the visitor when they leave."""

from __future__ import annotations

from email.utils import formataddr, make_msgid, parseaddr

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone

from kiwidesk.cases.models import Direction
from kiwidesk.cases.outbox import SendError
from kiwidesk.channels.email import outbound
from kiwidesk.channels.email.outbound import deliver
from kiwidesk.channels.webchat.models import ChatEntry, ChatSession


def transcript_text(session: ChatSession) -> str:
    """The chat as the visitor saw it: one paragraph per message, oldest first."""
    entries = ChatEntry.objects.filter(session=session).select_related(
        "message", "message__author_agent"
    )
    lines = [
        f"Here is a copy of your chat of {_day(session)}.",
        "",
    ]
    for entry in entries:
        message = entry.message
        at = timezone.localtime(message.created_at).strftime("%H:%M")
        lines.append(f"[{at}] {_author(entry)}:")
        lines.append(message.body_text.strip())
        lines.append("")
    lines.append("Reply to this email if there is anything more we can do.")
    return "\n".join(lines)


def mail_transcript(session: ChatSession) -> str:
    """Mail the transcript to the visitor's address; return the mail's Message-ID.

    The Reply-To carries the thread's reply token, so an answer to this mail lands
    on the chat's thread. Raises SendError, permanent when the server refuses.
    """
    thread = session.thread
    if thread is None or not session.email:
        raise SendError("The chat has no thread or no email address.", is_permanent=True)
    name, address = sender(session)
    message_id = make_msgid(domain=address.rpartition("@")[2] or "localhost")
    mail = EmailMessage(
        subject=f"Your chat with {name or 'us'} [#{thread.case_id}]",
        body=transcript_text(session),
        from_email=formataddr((name, address)),
        to=[formataddr((session.name, session.email))],
        reply_to=[outbound.reply_address(address, thread.reply_token or "")],
        headers={"Message-ID": message_id, "Auto-Submitted": "auto-generated"},
    )
    deliver(mail)
    return message_id.strip("<>")


def sender(session: ChatSession) -> tuple[str, str]:
    """The name and address the chat's mail comes from: the team's, else the desk's."""
    team = session.team
    if team is not None and team.email:
        return team.name, team.email
    name, address = parseaddr(settings.KIWIDESK_EMAIL_FROM)
    return name, address


def _day(session: ChatSession) -> str:
    return timezone.localtime(session.started_at).strftime("%-d %B %Y")


def _author(entry: ChatEntry) -> str:
    message = entry.message
    if message.direction == Direction.INBOUND:
        return "You"
    return message.author_agent.name if message.author_agent else "Support"
