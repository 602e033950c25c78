"""Words for the timeline and the waiting state, so templates stay free of decisions."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from django import template
from django.forms import BoundField
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.html import escape, format_html, format_html_join, linebreaks
from django.utils.safestring import SafeString, mark_safe

from kiwidesk.cases.events import MESSAGE_EVENTS
from kiwidesk.cases.models import (
    CallOutcome,
    Channel,
    DeliveryStatus,
    Direction,
    Event,
    EventKind,
    Message,
    Party,
    Priority,
    Sensitivity,
    Status,
    Thread,
)
from kiwidesk.channels.webchat.models import EndReason
from kiwidesk.pii.redaction import LABELS, as_findings, pieces

register = template.Library()

_LABELS: dict[str, dict[str, str]] = {
    EventKind.STATUS_CHANGED: dict(Status.choices),
    EventKind.PRIORITY_CHANGED: dict(Priority.choices),
    EventKind.SENSITIVITY_CHANGED: dict(Sensitivity.choices),
}
_FIELD_NAMES: dict[str, str] = {
    EventKind.SUBJECT_CHANGED: "Subject",
    EventKind.STATUS_CHANGED: "Status",
    EventKind.PRIORITY_CHANGED: "Priority",
    EventKind.CATEGORY_CHANGED: "Category",
    EventKind.SENSITIVITY_CHANGED: "Sensitivity",
    EventKind.ASSIGNED: "Assignee",
    EventKind.TEAM_CHANGED: "Team",
    EventKind.DUE_CHANGED: "Due by",
    EventKind.TAGS_CHANGED: "Tags",
}


@register.filter
def event_summary(event: Event) -> str:
    """One line saying what happened, e.g. "Status: New → Open"."""
    payload: dict[str, Any] = event.payload or {}
    if event.kind in _FIELD_NAMES:
        labels = _LABELS.get(event.kind, {})
        old = _shown(payload.get("old"), labels)
        new = _shown(payload.get("new"), labels)
        return f"{_FIELD_NAMES[event.kind]}: {old} → {new}"
    if event.kind == EventKind.CASE_OPENED:
        return f"Case opened on {_channel(payload.get('channel'))}"
    if event.kind == EventKind.THREAD_OPENED:
        party = dict(Party.choices).get(payload.get("party", ""), "")
        return f"{party} thread opened on {_channel(payload.get('channel'))}"
    if event.kind == EventKind.CASE_REOPENED:
        return f"Case reopened (was {dict(Status.choices).get(payload.get('previous_status', ''))})"
    if event.kind == EventKind.CASE_MERGED:
        return f"Case #{payload.get('source_id')} merged in: {payload.get('source_subject', '')}"
    if event.kind == EventKind.MERGED_INTO:
        return f"Merged into case #{payload.get('target_id')}"
    return _channel_summary(event, payload)


def _channel_summary(event: Event, payload: dict[str, Any]) -> str:
    """Summaries of what channels and ingest record.

    Another case's subject stays out: that case may be more sensitive than this one.
    """
    if event.kind == EventKind.MERGE_SUGGESTED:
        return f"Merge suggested: the customer also has case #{payload.get('other_case_id')} open"
    if event.kind == EventKind.FOLLOWS_CLOSED_CASE:
        return f"Follows closed case #{payload.get('closed_case_id')}: the customer wrote again"
    if event.kind == EventKind.ATTACHMENT_REFUSED:
        return f"Attachment refused: {payload.get('reason') or payload.get('filename', '')}"
    if event.kind == EventKind.DELIVERY_UPDATED:
        return _delivery_summary(event, payload)
    if event.kind == EventKind.CALL_LOGGED:
        return _call_summary(payload)
    if event.kind in _SLA_FIRINGS:
        due_at = parse_datetime(str(payload.get("due_at", "")))
        due = f" (due {date_format(timezone.localtime(due_at), 'H:i')})" if due_at else ""
        return f"{payload.get('clock', 'Clock')} {_SLA_FIRINGS[event.kind]}{due}"
    if event.kind in _FOLLOW_UPS:
        return _follow_up_summary(event.kind, payload)
    if event.kind in (EventKind.BREAK_GLASS, EventKind.MESSAGE_SENSITIVITY_CHANGED):
        return _privacy_summary(event.kind, payload)
    if event.kind == EventKind.CHAT_ENDED:
        reason = dict(EndReason.choices).get(str(payload.get("reason", "")), "ended")
        sent = payload.get("transcript_to")
        transcript = f"transcript emailed to {sent}" if sent else "no address for a transcript"
        return f"Chat ended: {reason.lower()}; {transcript}"
    return event.get_kind_display()


_SLA_FIRINGS: dict[str, str] = {
    EventKind.SLA_WARNING: "due soon",
    EventKind.SLA_BREACHED: "breached",
}


_FOLLOW_UPS = frozenset(
    {
        EventKind.FOLLOW_UP_SENT,
        EventKind.FOLLOW_UP_REFUSED,
        EventKind.SOLVED_AFTER_FOLLOW_UPS,
    }
)


def _follow_up_summary(kind: str, payload: dict[str, Any]) -> str:
    if kind == EventKind.FOLLOW_UP_SENT:
        return f"Reminder {payload.get('reminder')} of {payload.get('limit')} sent to the customer"
    if kind == EventKind.SOLVED_AFTER_FOLLOW_UPS:
        return f"Solved with a notice after {payload.get('reminders')} unanswered reminders"
    what = str(payload.get("what") or "reminder").capitalize()
    return f"{what} not sent: {payload.get('reason') or 'no reason given'}"


def _privacy_summary(kind: str, payload: dict[str, Any]) -> str:
    if kind == EventKind.BREAK_GLASS:
        until = parse_datetime(str(payload.get("expires_at", "")))
        when = f" until {date_format(timezone.localtime(until), 'H:i')}" if until else ""
        return f"Opened by break-glass{when}: {payload.get('reason', '')}"
    levels = dict(Sensitivity.choices)
    old, new = levels.get(payload.get("old", ""), "?"), levels.get(payload.get("new", ""), "?")
    return f"Message marked {new.lower()} (was {old.lower()})"


def _call_summary(payload: dict[str, Any]) -> str:
    party = "the customer" if payload.get("party") == Party.CUSTOMER else "the third party"
    way = "Call from" if payload.get("direction") == Direction.INBOUND else "Call to"
    outcome = dict(CallOutcome.choices).get(str(payload.get("outcome", "")), "logged")
    minutes, seconds = divmod(int(payload.get("duration_seconds") or 0), 60)
    length = f", {minutes} min {seconds:02d} s" if minutes or seconds else ""
    return f"{way} {party}: {outcome.lower()}{length}"


def _delivery_summary(event: Event, payload: dict[str, Any]) -> str:
    contact = event.thread.contact if event.thread is not None else None
    to = f"Message to {contact}" if contact is not None else "Message"
    status = str(payload.get("status", ""))
    if status == DeliveryStatus.FAILED:
        return f"{to} failed: {payload.get('error') or 'no reason given'}"
    retry_at = parse_datetime(str(payload.get("retry_at", "")))
    if retry_at is not None:
        when = date_format(timezone.localtime(retry_at), "DATETIME_FORMAT")
        return (
            f"{to} not sent (attempt {payload.get('attempt')}): "
            f"{payload.get('error') or 'no reason given'}; trying again at {when}"
        )
    return f"{to} {dict(DeliveryStatus.choices).get(status, status).lower()}"


@register.filter
def shows_message(event: Event) -> bool:
    """Whether the event is the message itself (received, sent, a note), shown in full.

    Delivery updates and refused attachments point at a message too, but are one line.
    """
    return event.message is not None and event.kind in MESSAGE_EVENTS.values()


@register.filter
def message_body(message: Message) -> SafeString:
    """Show the stripped text if quotes or a signature were stripped, else the HTML or text.

    The HTML of a mail is the whole original (quotes included), so it goes behind
    "show full message" (`message_full`) whenever a stripped text exists.
    """
    if message.body_html and not _shows_stripped_text(message):
        return _sanitised(message, message.body_html)
    return _paragraphs(message.body_text)


@register.simple_tag
def redacted_body(message: Message, may_reveal: bool) -> SafeString:
    """The text with each finding masked; a button reveals one value when allowed."""
    parts: list[str] = []
    url = reverse("web:reveal", args=(message.case_id, message.pk))
    for piece in pieces(message.body_text, as_findings(message.pii)):
        if not piece.type:
            parts.append(escape(piece.text))
        elif may_reveal:
            parts.append(
                format_html(
                    '<button type="button" class="pii" hx-get="{}?finding={}" '
                    'hx-swap="outerHTML" title="Reveal this {} (audited)">{}</button>',
                    url,
                    piece.index,
                    piece.label,
                    f"[{piece.label}]",
                )
            )
        else:
            parts.append(format_html('<span class="pii">{}</span>', f"[{piece.label}]"))
    html = (
        "".join(parts)
        .replace("\r\n", "\n")
        .strip()
        .replace("\n\n", "</p><p>")
        .replace("\n", "<br>")
    )
    return mark_safe(f"<p>{html}</p>")  # noqa: S308 -- every text piece is escaped above


@register.filter
def pii_labels(findings: list[list[Any]]) -> str:
    """The kinds of personal data in stored findings, e.g. "email address, phone number"."""
    kinds = sorted({finding.type for finding in as_findings(findings)})
    return ", ".join(LABELS.get(kind, kind.replace("_", " ")) for kind in kinds)


@register.filter
def message_full(message: Message) -> SafeString:
    """The whole original behind "show full message"; empty when the body shows it all."""
    if _shows_stripped_text(message) and message.body_html:
        return _sanitised(message, message.body_html)
    if _was_stripped(message) and not message.body_html:
        return _paragraphs(message.full_text)
    return SafeString("")


def _was_stripped(message: Message) -> bool:
    return bool(message.full_text.strip()) and message.full_text != message.body_text


def _shows_stripped_text(message: Message) -> bool:
    return _was_stripped(message) and bool(message.body_text.strip())


def _paragraphs(text: str) -> SafeString:
    return mark_safe(linebreaks(text, autoescape=True))  # noqa: S308 -- escaped by linebreaks


def _sanitised(message: Message, html: str) -> SafeString:
    # Safe to mark safe only because nh3 sanitised it when the message was stored.
    return mark_safe(_with_inline_images(message, html))  # noqa: S308


# nh3 writes every attribute double-quoted, so a cid: image source is always this.
_INLINE_IMAGE = re.compile(r'src="cid:([^"]+)"', re.IGNORECASE)


def _with_inline_images(message: Message, html: str) -> str:
    """Point each `cid:` image of a mail at the attachment it names (behind the access gate)."""
    if "cid:" not in html:
        return html
    parts = {a.content_id: a.pk for a in message.attachments.all() if a.content_id}

    def attachment_url(match: re.Match[str]) -> str:
        found = parts.get(unquote(match.group(1)))
        if found is None:
            return match.group(0)
        return f'src="{reverse("web:attachment", args=[message.case_id, found])}"'

    return _INLINE_IMAGE.sub(attachment_url, html)


def _shown(value: Any, labels: dict[str, str]) -> str:
    if value in (None, "", []):
        return "none"
    if isinstance(value, dict):
        return str(value.get("name", ""))
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return labels.get(str(value), str(value))


def _channel(value: Any) -> str:
    return dict(Channel.choices).get(str(value), str(value))


@register.filter
def waiting(thread: Thread) -> str:
    """Who is waiting for whom on this thread, from who spoke last."""
    direction = getattr(thread, "last_direction", "")
    other = "The customer" if thread.party == Party.CUSTOMER else "The third party"
    if direction == Direction.INBOUND:
        return f"{other} is waiting for us"
    if direction == Direction.OUTBOUND:
        return f"We are waiting for {other.lower()}"
    return "Nobody is waiting yet"


@register.filter
def is_waiting_for_us(thread: Thread) -> bool:
    return getattr(thread, "last_direction", "") == Direction.INBOUND


@register.simple_tag
def select_options(field: BoundField) -> SafeString:
    """The <option>s of a choice field, built here: widget templates cost ~1 ms a select."""
    current = field.value()
    selected = {str(value) for value in current} if isinstance(current, list) else {str(current)}
    choices = field.field.choices  # type: ignore[attr-defined]
    return format_html_join(
        "",
        "{}",
        ((_option(str(value), str(label), str(value) in selected),) for value, label in choices),
    )


def _option(value: str, label: str, is_selected: bool) -> SafeString:
    if is_selected:
        return format_html('<option value="{}" selected>{}</option>', value, label)
    return format_html('<option value="{}">{}</option>', value, label)
