"""Shapes of what agents type into the web UI. Forms check shape only; services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.files.uploadedfile import UploadedFile

from kiwidesk.accounts.models import Agent, Scope, Team
from kiwidesk.accounts.services import MAX_TOKEN_DAYS
from kiwidesk.cases.content import NewAttachment
from kiwidesk.cases.models import Case, Channel, Priority, Sensitivity, Status
from kiwidesk.cases.queries import SORTS, InboxFilters, InboxView
from kiwidesk.cases.services import CaseChanges
from kiwidesk.channels.whatsapp.models import MessageTemplate
from kiwidesk.channels.whatsapp.templates import active_templates
from kiwidesk.contacts.models import IdentityKind
from kiwidesk.contacts.services import InvalidIdentityError, normalise_identity

PAGE_SIZE = 50

SORT_LABELS = {
    "updated": "Recently updated",
    "oldest": "Least recently updated",
    "created": "Newest first",
    "due": "Due soonest",
    "priority": "Highest priority",
    "breach": "Next breach",
}
PARTY_CHANNELS = [(value, label) for value, label in Channel.choices if value != Channel.INTERNAL]


def _set_choices(field: forms.Field, choices: list[tuple[str, str]]) -> None:
    if isinstance(field, forms.ChoiceField):
        field.choices = choices


def _any(label: str, choices: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [("", label), *choices]


class LoginForm(AuthenticationForm):
    """Django's login form, labelled for email addresses."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "Email"
        self.fields["username"].widget = forms.EmailInput(
            attrs={"autofocus": True, "autocomplete": "email"}
        )


class CodeForm(forms.Form):
    """A six-digit code from an authenticator app."""

    code = forms.RegexField(
        label="Code from your authenticator app",
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": "Type the 6 digits your authenticator app shows."},
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": True,
                "maxlength": 7,
            }
        ),
    )

    def token(self) -> str:
        return str(self.cleaned_data["code"]).strip()


class NewTokenForm(forms.Form):
    """Name, scopes and lifetime of a new API token; the service decides who gets what."""

    name = forms.CharField(max_length=100, initial="API token")
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices,
        initial=[Scope.READ, Scope.WRITE],
        widget=forms.CheckboxSelectMultiple,
        help_text="GET needs read; everything else write. Clinical counts as a second factor.",
    )
    days = forms.IntegerField(
        label="Expires after (days)", min_value=1, max_value=MAX_TOKEN_DAYS, initial=90
    )


class InboxFilterForm(forms.Form):
    view = forms.ChoiceField(
        choices=list(InboxView.LABELS.items()), required=False, widget=forms.HiddenInput
    )
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=200,
        widget=forms.SearchInput(attrs={"placeholder": "Subject, customer or #id"}),
    )
    status = forms.ChoiceField(choices=_any("Any status", Status.choices), required=False)
    priority = forms.ChoiceField(choices=_any("Any priority", Priority.choices), required=False)
    team = forms.TypedChoiceField(coerce=int, empty_value=None, required=False)
    assignee = forms.TypedChoiceField(coerce=int, empty_value=None, required=False)
    tag = forms.CharField(label="Tag", required=False, max_length=50)
    channel = forms.ChoiceField(choices=_any("Any channel", Channel.choices), required=False)
    sensitivity = forms.ChoiceField(
        choices=_any("Any sensitivity", Sensitivity.choices), required=False
    )
    sort = forms.ChoiceField(
        label="Sort", choices=[(key, SORT_LABELS[key]) for key in SORTS], required=False
    )
    page = forms.IntegerField(min_value=1, max_value=10_000, required=False)

    def __init__(self, *args: Any, teams: list[Team], agents: list[Agent], **kwargs: Any):
        super().__init__(*args, **kwargs)
        team_choices = [(str(t.pk), t.name) for t in teams]
        agent_choices = [(str(a.pk), str(a)) for a in agents]
        _set_choices(self.fields["team"], _any("Any team", team_choices))
        _set_choices(self.fields["assignee"], [("", "Anyone"), ("0", "Unassigned"), *agent_choices])

    def filters(self) -> InboxFilters:
        data = {key: value for key, value in self.cleaned_data.items() if value not in ("", None)}
        data.pop("page", None)
        return InboxFilters(**data)

    def page_number(self) -> int:
        return int(self.cleaned_data.get("page") or 1)


class CaseHeaderForm(forms.Form):
    """Every case field an agent can edit in the header. Only changed fields are applied."""

    subject = forms.CharField(max_length=250)
    status = forms.ChoiceField(choices=Status.choices)
    priority = forms.ChoiceField(choices=Priority.choices)
    assignee = forms.ModelChoiceField(
        queryset=Agent.objects.filter(is_active=True), required=False, empty_label="Nobody"
    )
    team = forms.ModelChoiceField(queryset=Team.objects.all(), required=False, empty_label="None")
    tags = forms.CharField(required=False, max_length=500, help_text="Separate tags with commas.")
    category = forms.CharField(required=False, max_length=80)
    sensitivity = forms.ChoiceField(choices=Sensitivity.choices)
    due_at = forms.DateTimeField(
        label="Due by",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def __init__(self, *args: Any, case: Case, sensitivities: tuple[str, ...], **kwargs: Any):
        kwargs.setdefault("initial", _header_initial(case))
        super().__init__(*args, **kwargs)
        # An agent may not mark a case more sensitive than they are cleared to open.
        _set_choices(
            self.fields["sensitivity"],
            [(value, label) for value, label in Sensitivity.choices if value in sensitivities],
        )

    def changes(self) -> CaseChanges:
        changes: CaseChanges = {}
        for name in self.changed_data:
            value = self.cleaned_data[name]
            if name == "tags":
                changes["tags"] = [tag for tag in value.split(",") if tag.strip()]
            else:
                changes[name] = value  # type: ignore[literal-required]
        return changes


def _header_initial(case: Case) -> dict[str, Any]:
    return {
        "subject": case.subject,
        "status": case.status,
        "priority": case.priority,
        "assignee": case.assignee_id,
        "team": case.team_id,
        "tags": ", ".join(tag.name for tag in case.tags.all()),
        "category": case.category,
        "sensitivity": case.sensitivity,
        # The input shows minutes; seconds in the initial value would make every save
        # look like a change of the due date.
        "due_at": case.due_at.replace(second=0, microsecond=0) if case.due_at else None,
    }


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input, as Django's documentation shows."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile[bytes]]:
        single_clean = super().clean
        if isinstance(data, list | tuple):
            return [single_clean(item, initial) for item in data]
        return [single_clean(data, initial)] if data else []


class ComposeForm(forms.Form):
    text = forms.CharField(
        label="Message", required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    attachments = MultipleFileField(label="Attach files", required=False)

    def new_attachments(self) -> list[NewAttachment]:
        return [
            NewAttachment(
                filename=upload.name or "attachment",
                content_type=upload.content_type or "application/octet-stream",
                content=upload.read(),
            )
            for upload in self.cleaned_data["attachments"]
        ]


class NewThreadForm(forms.Form):
    """Start a conversation with a third party: an existing contact, or a new one."""

    # Prefixed because it shares the case page with the header form (both have a subject).
    prefix = "thread"

    contact = forms.TypedChoiceField(
        label="Existing third party", coerce=int, empty_value=None, required=False
    )
    name = forms.CharField(label="Or a new one: name", required=False, max_length=200)
    email = forms.EmailField(label="Email", required=False)
    phone = forms.CharField(
        label="Phone",
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"type": "tel", "placeholder": "+44 20 7946 0000"}),
    )
    channel = forms.ChoiceField(choices=PARTY_CHANNELS, initial=Channel.PHONE)
    subject = forms.CharField(required=False, max_length=250)
    text = forms.CharField(
        label="First message (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, third_parties: list[tuple[int, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        _set_choices(
            self.fields["contact"], _any("Choose…", [(str(pk), name) for pk, name in third_parties])
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("contact") is None and not (cleaned.get("email") or cleaned.get("phone")):
            raise forms.ValidationError("Choose a third party, or give an email or a phone number.")
        return _normalise_phone(self, cleaned)

    def identity(self) -> tuple[str, str]:
        """The address that identifies a new third party: email first, else phone."""
        if self.cleaned_data.get("email"):
            return IdentityKind.EMAIL, self.cleaned_data["email"]
        return IdentityKind.PHONE, self.cleaned_data["phone"]


class MergeForm(forms.Form):
    target = forms.IntegerField(label="Merge into case number", min_value=1)


class NewCaseForm(forms.Form):
    """A case logged by an agent, typically from a phone call."""

    email = forms.EmailField(label="Customer email", required=False)
    phone = forms.CharField(
        label="Customer phone",
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"type": "tel", "placeholder": "+44 20 7946 0000"}),
    )
    name = forms.CharField(label="Customer name", required=False, max_length=200)
    subject = forms.CharField(max_length=250)
    text = forms.CharField(label="What the customer said", widget=forms.Textarea(attrs={"rows": 5}))
    channel = forms.ChoiceField(choices=PARTY_CHANNELS, initial=Channel.PHONE)
    priority = forms.ChoiceField(choices=Priority.choices, initial=Priority.NORMAL)
    team = forms.ModelChoiceField(queryset=Team.objects.all(), required=False, empty_label="None")
    assignee = forms.ModelChoiceField(
        queryset=Agent.objects.filter(is_active=True), required=False, empty_label="Nobody"
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not (cleaned.get("email") or cleaned.get("phone")):
            raise forms.ValidationError("Give the customer's email or phone number.")
        return _normalise_phone(self, cleaned)

    def identity(self) -> tuple[str, str]:
        if self.cleaned_data.get("email"):
            return IdentityKind.EMAIL, self.cleaned_data["email"]
        return IdentityKind.PHONE, self.cleaned_data["phone"]


def _normalise_phone(form: forms.Form, cleaned: dict[str, Any]) -> dict[str, Any]:
    phone = cleaned.get("phone")
    if phone:
        try:
            cleaned["phone"] = normalise_identity(IdentityKind.PHONE, phone)
        except InvalidIdentityError:
            form.add_error(
                "phone", "Write the number in international form, e.g. +44 20 7946 0000."
            )
    return cleaned


class TemplateForm(forms.Form):
    """Write an approved WhatsApp template: the only message allowed outside the window."""

    prefix = "template"

    template = forms.ModelChoiceField(
        label="Approved template",
        queryset=MessageTemplate.objects.none(),
        empty_label="Choose a template",
    )
    parameters = forms.CharField(
        label="Parameters, one per line ({{1}} first)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = active_templates()  # type: ignore[attr-defined]

    def parameter_values(self) -> list[str]:
        return [
            line.strip() for line in self.cleaned_data["parameters"].splitlines() if line.strip()
        ]
