"""The admin's pages for case content, behind the same gate as the UI and the API.

The admin is the support engineer's tool for fixing data, so it lists only the cases
`visible_cases` allows, opens an object through `access_case` (audited like any other
read), and never shows or edits what customers wrote: message bodies and call
transcripts stay out of its forms, and a message shows its text masked.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from kiwidesk.accounts.models import Agent
from kiwidesk.cases.models import Attachment, Call, Case, Event, Message, Thread
from kiwidesk.pii.redaction import as_findings, redact
from kiwidesk.privacy.access import CaseNotFoundError, Purpose, access_case, visible_cases

M = TypeVar("M", bound=Model)


class CaseContentAdmin(admin.ModelAdmin[M]):
    """An admin whose objects belong to a case: `case_field` is the lookup path to it."""

    case_field = "case"
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[M]:
        cases = visible_cases(_agent(request)).values("pk")
        return super().get_queryset(request).filter(**{f"{self.case_field}__in": cases})

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> M | None:
        found = super().get_object(request, object_id, from_field)
        if found is not None:
            purpose = Purpose.VIEW if request.method in ("GET", "HEAD") else Purpose.CHANGE
            try:
                access_case(_agent(request), self.case_id(found), purpose)
            except (CaseNotFoundError, PermissionError):
                raise PermissionDenied from None
        return found

    def case_id(self, found: M) -> int:
        """Follow `case_field` from the object to its case's id."""
        if self.case_field == "pk":
            return int(found.pk)
        *path, last = self.case_field.split("__")
        holder: Any = found
        for part in path:
            holder = getattr(holder, part)
        return int(getattr(holder, f"{last}_id"))


def _agent(request: HttpRequest) -> Agent:
    user = request.user
    if not isinstance(user, Agent):
        raise PermissionDenied
    return user


class ThreadInline(admin.TabularInline[Thread, Case]):
    model = Thread
    extra = 0
    fields = ["party", "channel", "contact", "subject", "last_message_at"]
    raw_id_fields = ["contact"]
    show_change_link = True


@admin.register(Case)
class CaseAdmin(CaseContentAdmin[Case]):
    case_field = "pk"
    list_display = ["id", "subject", "status", "priority", "sensitivity", "team", "assignee",
                    "updated_at"]  # fmt: skip
    list_filter = ["status", "priority", "sensitivity", "channel", "team"]
    search_fields = ["=id", "subject", "customer__name"]
    raw_id_fields = ["customer", "assignee", "merged_into"]
    filter_horizontal = ["tags"]
    date_hierarchy = "created_at"
    list_select_related = ["team", "assignee"]
    inlines = [ThreadInline]


@admin.register(Thread)
class ThreadAdmin(CaseContentAdmin[Thread]):
    list_display = ["id", "case", "party", "channel", "contact", "last_message_at"]
    list_filter = ["party", "channel"]
    raw_id_fields = ["case", "contact"]


class AttachmentInline(admin.TabularInline[Attachment, Message]):
    model = Attachment
    extra = 0
    readonly_fields = ["sha256", "size"]


@admin.register(Message)
class MessageAdmin(CaseContentAdmin[Message]):
    list_display = ["id", "case", "direction", "sensitivity", "delivery_status", "created_at"]
    list_filter = ["direction", "sensitivity", "delivery_status"]
    search_fields = ["=case__id", "external_id"]
    raw_id_fields = ["case", "thread", "author_agent", "author_contact"]
    exclude = ["body_text", "body_html", "full_text", "pii"]
    readonly_fields = ["masked_text"]
    inlines = [AttachmentInline]

    @admin.display(description="Text (personal data masked)")
    def masked_text(self, message: Message) -> str:
        return redact(message.body_text, as_findings(message.pii))


@admin.register(Event)
class EventAdmin(CaseContentAdmin[Event]):
    list_display = ["id", "case", "kind", "actor", "created_at"]
    list_filter = ["kind"]
    search_fields = ["=case__id"]
    raw_id_fields = ["case", "actor", "thread", "message"]

    # Events are the immutable record; the admin may read them, never rewrite them.
    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Attachment)
class AttachmentAdmin(CaseContentAdmin[Attachment]):
    case_field = "message__case"
    list_display = ["filename", "content_type", "size", "message"]
    raw_id_fields = ["message"]
    search_fields = ["filename", "sha256"]


@admin.register(Call)
class CallAdmin(CaseContentAdmin[Call]):
    case_field = "message__case"
    list_display = ["id", "message", "outcome", "duration_seconds", "started_at", "source"]
    list_filter = ["outcome", "source"]
    search_fields = ["=message__case__id", "provider_call_id"]
    raw_id_fields = ["message", "recording"]
    exclude = ["transcript"]
