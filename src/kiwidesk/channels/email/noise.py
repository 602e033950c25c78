"""Recognise mail no person wrote: auto-replies, bounces, lists and bulk mail.

Such mail is stored but never answered automatically, which is what stops two
auto-responders from replying to each other for ever (RFC 3834, section 2).
"""

from __future__ import annotations

from email.message import Message

from kiwidesk.channels.email.mime import first_header

_AUTOMATED_PRECEDENCE = frozenset({"bulk", "junk", "auto_reply", "list"})
_SYSTEM_SENDERS = frozenset({"mailer-daemon", "postmaster"})
_AUTORESPONDER_HEADERS = ("X-Autoreply", "X-Autorespond")


def is_automated(message: Message, *, sender_email: str) -> bool:
    """True for an auto-reply, a delivery report, or bulk or list mail."""
    auto_submitted = first_header(message, "Auto-Submitted").split(";")[0].strip().lower()
    if auto_submitted and auto_submitted != "no":
        return True
    if any(first_header(message, name) for name in _AUTORESPONDER_HEADERS):
        return True
    if first_header(message, "Precedence").strip().lower() in _AUTOMATED_PRECEDENCE:
        return True
    if message.get_content_type() == "multipart/report":
        return True
    return sender_email.partition("@")[0].lower() in _SYSTEM_SENDERS
