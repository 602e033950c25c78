"""The shapes the API accepts and returns. Shape only: the rules live in the services."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import (
    AfterValidator,
    AwareDatetime,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from kiwidesk.cases.content import NewAttachment
from kiwidesk.cases.models import (
    Attachment,
    Case,
    Channel,
    DeliveryStatus,
    Direction,
    Event,
    Message,
    Party,
    Priority,
    Sensitivity,
    Status,
    Thread,
)
from kiwidesk.contacts.models import Contact, IdentityKind, OrganisationKind, Tier
from kiwidesk.pii.redaction import as_findings, redact

# Ids above the 64-bit range would overflow the database driver instead of missing a row.
MAX_ID = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
# Deep offsets are a scan of the table; past this, narrow the filters instead.
MAX_OFFSET = 100_000


def _without_nul(value: str) -> str:
    # PostgreSQL refuses NUL in text columns; say so instead of failing on save.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


NoNul = AfterValidator(_without_nul)
Subject = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=250), NoNul
]
Category = Annotated[str, StringConstraints(strip_whitespace=True, max_length=80), NoNul]
Name = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), NoNul]
Address = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=254), NoNul
]
TagName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50), NoNul
]
Filename = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255), NoNul
]
ContentType = Annotated[str, StringConstraints(strip_whitespace=True, max_length=120), NoNul]
Body = Annotated[str, NoNul]


class ErrorOut(Schema):
    detail: str


class FieldErrorsOut(Schema):
    detail: list[dict[str, Any]]


# What any operation may answer besides success, for the OpenAPI description.
ERRORS: dict[int, Any] = {
    400: ErrorOut,
    401: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    413: ErrorOut,
    422: FieldErrorsOut | ErrorOut,
}


class AttachmentIn(Schema):
    filename: Filename
    content_type: ContentType = "application/octet-stream"
    content_base64: str = Field(description="The file's bytes, base64-encoded.")

    @model_validator(mode="after")
    def _decodes(self) -> AttachmentIn:
        try:
            base64.b64decode(self.content_base64, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("content_base64 is not valid base64") from None
        return self

    def as_new_attachment(self) -> NewAttachment:
        return NewAttachment(
            filename=self.filename,
            content_type=self.content_type,
            content=base64.b64decode(self.content_base64, validate=True),
        )


Attachments = Annotated[list[AttachmentIn], Field(max_length=20)]


class AddressesIn(Schema):
    """The addresses a contact may be given by: email, phone and WhatsApp, all optional."""

    email: Address | None = None
    phone: Address | None = None
    whatsapp: Address | None = None

    def addresses(self) -> list[tuple[str, str]]:
        """The (identity kind, value) pairs given, most reliable first."""
        given = [
            (IdentityKind.EMAIL, self.email),
            (IdentityKind.PHONE, self.phone),
            (IdentityKind.WHATSAPP, self.whatsapp),
        ]
        return [(str(kind), value) for kind, value in given if value]


class CustomerIn(AddressesIn):
    """Who the case is for: an existing contact's id, or an address to find or create them."""

    id: Id | None = None
    name: Name = ""

    @model_validator(mode="after")
    def _identifies(self) -> CustomerIn:
        if self.id is None and not self.addresses():
            raise ValueError("give the customer's id, email, phone or whatsapp")
        return self


class CaseIn(Schema):
    subject: Subject
    customer: CustomerIn
    message: Body = Field("", description="The customer's first message, as plain text.")
    html: Body = ""
    channel: Channel = Channel.API
    priority: Priority = Priority.NORMAL
    category: Category = ""
    sensitivity: Sensitivity = Sensitivity.NORMAL
    team: Id | None = None
    assignee: Id | None = None
    tags: Annotated[list[TagName], Field(max_length=50)] = []
    attachments: Attachments = []


class CasePatch(Schema):
    """Only the fields sent are changed; send null to clear assignee, team or due_at."""

    subject: Subject | None = None
    status: Status | None = None
    priority: Priority | None = None
    category: Category | None = None
    sensitivity: Sensitivity | None = None
    assignee: Id | None = None
    team: Id | None = None
    due_at: AwareDatetime | None = None
    tags: Annotated[list[TagName], Field(max_length=50)] | None = None

    @field_validator(
        "subject", "status", "priority", "category", "sensitivity", "tags", mode="before"
    )
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # Null would mean "clear it", and these fields always have a value.
        if value is None:
            raise ValueError("may be left out but not set to null")
        return value


class MergeIn(Schema):
    into: Id = Field(description="The case that absorbs this one.")


class PartyIn(Schema):
    """A third party not yet known: found by, or created with, their address."""

    name: Name = ""
    email: Address | None = None
    phone: Address | None = None

    @model_validator(mode="after")
    def _reachable(self) -> PartyIn:
        if not self.email and not self.phone:
            raise ValueError("give the party's email or phone")
        return self


class ThreadIn(Schema):
    contact_id: Id | None = None
    contact: PartyIn | None = None
    channel: Channel | None = Field(None, description="Defaults to email, else phone.")
    subject: Name = ""

    @model_validator(mode="after")
    def _one_party(self) -> ThreadIn:
        if (self.contact_id is None) == (self.contact is None):
            raise ValueError("give exactly one of contact_id or contact")
        if self.channel in (Channel.INTERNAL,):
            raise ValueError("a thread with a party cannot be internal; add a note instead")
        return self


class MessageIn(Schema):
    text: Body = ""
    html: Body = ""
    attachments: Attachments = []
    confirm_pii: bool = Field(
        default=False,
        description="Send even though the text holds personal data the recipient did not "
        "give us; without it such a message answers 409 with the findings.",
    )


class NoteIn(Schema):
    text: Body = ""
    attachments: Attachments = []
    sensitivity: Sensitivity = Sensitivity.NORMAL


class FindingOut(Schema):
    type: str
    start: int = Field(description="Character offset in `text`.")
    end: int


class MessageOriginalOut(Schema):
    """A message's content unmasked; every read is an audit record."""

    id: int
    text: str
    html: str
    full_text: str
    pii: list[FindingOut]

    @staticmethod
    def resolve_text(message: Message) -> str:
        return message.body_text

    @staticmethod
    def resolve_html(message: Message) -> str:
        return message.body_html

    @staticmethod
    def resolve_pii(message: Message) -> list[dict[str, Any]]:
        found = as_findings(message.pii)
        return [{"type": f.type, "start": f.start, "end": f.end} for f in sorted(found)]


class SensitivityIn(Schema):
    sensitivity: Sensitivity


class BreakGlassIn(Schema):
    reason: str = Field(min_length=1, max_length=2000, description="Why you need this case.")
    minutes: int = Field(default=60, description="15, 30, 60 or 120.")


class BreakGlassOut(Schema):
    id: int
    case_id: int
    reason: str
    granted_at: datetime
    expires_at: datetime


class ContactIn(AddressesIn):
    name: Name = ""
    organisation_id: Id | None = None
    is_third_party: bool = False

    @model_validator(mode="after")
    def _identifies(self) -> ContactIn:
        if not self.addresses():
            raise ValueError("give the contact's email, phone or whatsapp")
        return self


class TeamRef(Schema):
    id: int
    name: str


class AgentRef(Schema):
    id: int
    name: str


class ContactRef(Schema):
    id: int
    name: str


class CaseOut(Schema):
    id: int
    subject: str
    status: Status
    priority: Priority
    category: str
    tags: list[str]
    sensitivity: Sensitivity
    team: TeamRef | None
    assignee: AgentRef | None
    customer: ContactRef
    channel: Channel
    due_at: datetime | None
    created_at: datetime
    updated_at: datetime
    merged_into: int | None

    @staticmethod
    def resolve_tags(case: Case) -> list[str]:
        return [tag.name for tag in case.tags.all()]

    @staticmethod
    def resolve_merged_into(case: Case) -> int | None:
        return case.merged_into_id


class CasePage(Schema):
    items: list[CaseOut]
    next_offset: int | None = Field(
        description="Pass as offset for the next page; null at the end."
    )
    next: str | None = Field(description="The URL of the next page; null at the end.")


class AttachmentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    pii_types: list[str] = Field(
        description="The kinds of personal data found in a text attachment (e.g. email, "
        "phone), sorted; empty for other files."
    )

    @staticmethod
    def resolve_pii_types(attachment: Attachment) -> list[str]:
        return sorted({finding.type for finding in as_findings(attachment.pii)})


class AuthorOut(Schema):
    kind: str = Field(description="agent or contact")
    id: int
    name: str


class MessageOut(Schema):
    """A message as the caller may see it: personal data masked, content above the
    caller's clearance (or clinical without a second factor) withheld.

    `api.presenting.present` marks what the caller may see; an unmarked message is
    withheld, so a new endpoint that forgets it leaks nothing.
    """

    id: int
    case_id: int
    thread_id: int
    party: Party
    channel: Channel
    direction: Direction
    author: AuthorOut | None
    sensitivity: Sensitivity
    withheld: bool = Field(description="The content is above the caller's clearance.")
    redacted: bool = Field(
        description="Personal data in `text` is masked as [type]; `html` is left empty. "
        "GET .../messages/{id}/original reveals it (audited)."
    )
    text: str
    html: str
    attachments: list[AttachmentOut]
    created_at: datetime
    delivery_status: DeliveryStatus

    @staticmethod
    def resolve_withheld(message: Message) -> bool:
        return not getattr(message, "content_shown", False)

    @staticmethod
    def resolve_redacted(message: Message) -> bool:
        return bool(message.pii) and getattr(message, "content_shown", False)

    @staticmethod
    def resolve_party(message: Message) -> str:
        return message.thread.party

    @staticmethod
    def resolve_channel(message: Message) -> str:
        return message.thread.channel

    @staticmethod
    def resolve_text(message: Message) -> str:
        if not getattr(message, "content_shown", False):
            return ""
        if message.pii:
            return redact(message.body_text, as_findings(message.pii))
        return message.body_text

    @staticmethod
    def resolve_html(message: Message) -> str:
        if not getattr(message, "content_shown", False) or message.pii:
            return ""
        return message.body_html

    @staticmethod
    def resolve_attachments(message: Message) -> list[Any]:
        if not getattr(message, "content_shown", False):
            return []
        return list(message.attachments.all())

    @staticmethod
    def resolve_author(message: Message) -> dict[str, Any] | None:
        if message.author_agent is not None:
            agent = message.author_agent
            return {"kind": "agent", "id": agent.pk, "name": str(agent)}
        if message.author_contact is not None:
            contact = message.author_contact
            return {"kind": "contact", "id": contact.pk, "name": str(contact)}
        return None


class ThreadOut(Schema):
    id: int
    case_id: int
    party: Party
    channel: Channel
    contact: ContactRef | None
    subject: str
    created_at: datetime
    last_message_at: datetime | None
    message_count: int

    @staticmethod
    def resolve_message_count(thread: Thread) -> int:
        return int(getattr(thread, "message_count", 0))


class EventOut(Schema):
    id: int
    case_id: int
    kind: str
    actor: AgentRef | None
    thread_id: int | None
    message_id: int | None
    payload: dict[str, Any]
    created_at: datetime

    @staticmethod
    def resolve_actor(event: Event) -> dict[str, Any] | None:
        if event.actor is None:
            return None
        return {"id": event.actor.pk, "name": str(event.actor)}


class OrganisationOut(Schema):
    id: int
    name: str
    kind: OrganisationKind
    tier: Tier


class IdentityOut(Schema):
    kind: IdentityKind
    value: str
    is_primary: bool


class ContactOut(Schema):
    id: int
    name: str
    is_third_party: bool
    tier: Tier
    organisation: OrganisationOut | None
    identities: list[IdentityOut]
    created_at: datetime

    @staticmethod
    def resolve_identities(contact: Contact) -> list[Any]:
        return list(contact.identities.all())


class ContactPage(Schema):
    items: list[ContactOut]
    next_offset: int | None
    next: str | None


InboxViewName = Literal["mine", "unassigned", "teams", "pending", "open", "solved", "all"]
SortName = Literal["updated", "oldest", "created", "due", "priority", "breach"]
Limit = Annotated[int, Field(ge=1, le=200)]
Offset = Annotated[int, Field(ge=0, le=MAX_OFFSET)]
SearchText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), NoNul]


class CaseListQuery(Schema):
    """The inbox's filters; every one is optional."""

    view: InboxViewName = "open"
    status: Status | None = None
    priority: Priority | None = None
    team: Id | None = None
    assignee: str | None = Field(
        None, pattern=r"^(none|[1-9][0-9]{0,17})$", description='An agent id, or "none".'
    )
    tag: TagName | None = None
    channel: Channel | None = None
    sensitivity: Sensitivity | None = None
    q: SearchText = ""
    sort: SortName = "updated"
    limit: Limit = 50
    offset: Offset = 0


class ContactListQuery(Schema):
    q: SearchText = ""
    limit: Limit = 50
    offset: Offset = 0
