"""The authorization matrix: anonymous, a customer, an agent without clearance, a cleared agent.

The full role x sensitivity x action matrix is in tests/privacy/test_access_matrix.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from kiwidesk.cases.models import Case, Event, Message, Thread
from kiwidesk.contacts.models import Contact
from kiwidesk.privacy.models import AuditRecord
from tests.api.conftest import ApiClient, b64
from tests.factories.cases import customer_thread, make_case


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str
    body: dict[str, Any] | None
    success: int
    writes: bool


@dataclass(frozen=True)
class Role:
    name: str
    status: int | None  # None: the endpoint's own success status
    audit: tuple[str, ...]


REFUSED_BEFORE_THE_GATE = (
    Role("anonymous", 401, ()),
    Role("customer", 401, ()),
)
ROLES = (
    *REFUSED_BEFORE_THE_GATE,
    Role("uncleared_agent", 403, ("denied",)),  # named, so that break-glass can follow
    Role("cleared_agent", None, ("granted",)),
)


def matrix(*endpoints: Endpoint) -> list[Any]:
    return [
        pytest.param(
            role.name,
            endpoint,
            role.status or endpoint.success,
            list(role.audit),
            role.name == "cleared_agent" and endpoint.writes,
            id=f"{role.name}-{endpoint.name}",
        )
        for endpoint in endpoints
        for role in ROLES
    ]


def state(case: Case) -> tuple[Any, ...]:
    """Everything a refused request must leave as it was."""
    return (
        Case.objects.filter(pk=case.pk).values().get(),
        Case.objects.count(),
        Thread.objects.count(),
        Message.objects.count(),
        Event.objects.count(),
    )


def outcomes(case: Case) -> list[str]:
    return list(
        AuditRecord.objects.filter(object_type="case", object_id=str(case.pk))
        .order_by("id")
        .values_list("outcome", flat=True)
    )


def call(caller: ApiClient, endpoint: Endpoint, **ids: int) -> Any:
    """Send the endpoint's request, with "{name}" placeholders in path and body filled in."""
    body = {
        key: ids[value[1:-1]] if isinstance(value, str) and value[1:-1] in ids else value
        for key, value in (endpoint.body or {}).items()
    }
    return caller.send(endpoint.method, endpoint.path.format(**ids), body)


@pytest.mark.parametrize(
    ("role", "endpoint", "status", "audit", "changes"),
    matrix(
        Endpoint("read", "GET", "/cases/{case}", None, 200, writes=False),
        Endpoint("change", "PATCH", "/cases/{case}", {"priority": "urgent"}, 200, writes=True),
        Endpoint("merge", "POST", "/cases/{case}/merge", {"into": "{target}"}, 200, writes=True),
    ),
)
def test_case_endpoints_follow_the_authorization_matrix(
    callers: dict[str, ApiClient],
    clinical_case: Case,
    role: str,
    endpoint: Endpoint,
    status: int,
    audit: list[str],
    changes: bool,
) -> None:
    target = make_case(subject="The same screen froze for a colleague")
    before = state(clinical_case)

    response = call(callers[role], endpoint, case=clinical_case.pk, target=target.pk)

    assert response.status_code == status
    assert outcomes(clinical_case) == audit
    assert (state(clinical_case) != before) is changes


@pytest.mark.parametrize(
    ("role", "endpoint", "status", "audit", "changes"),
    matrix(
        Endpoint("list", "GET", "/cases/{case}/messages", None, 200, writes=False),
        Endpoint("note", "POST", "/cases/{case}/notes", {"text": "Reproduced."}, 201, writes=True),
        Endpoint(
            "reply",
            "POST",
            "/threads/{thread}/messages",
            {
                "text": "We are on it.",
                "attachments": [{"filename": "steps.txt", "content_base64": b64(b"1. Open")}],
            },
            201,
            writes=True,
        ),
    ),
)
def test_message_endpoints_follow_the_authorization_matrix(
    callers: dict[str, ApiClient],
    clinical_case: Case,
    role: str,
    endpoint: Endpoint,
    status: int,
    audit: list[str],
    changes: bool,
) -> None:
    thread = customer_thread(clinical_case)
    before = state(clinical_case)

    response = call(callers[role], endpoint, case=clinical_case.pk, thread=thread.pk)

    assert response.status_code == status
    assert outcomes(clinical_case) == audit
    assert (state(clinical_case) != before) is changes


@pytest.mark.parametrize(
    ("role", "endpoint", "status", "audit", "changes"),
    matrix(
        Endpoint("list", "GET", "/cases/{case}/threads", None, 200, writes=False),
        Endpoint(
            "start",
            "POST",
            "/cases/{case}/threads",
            {"contact": {"name": "Harbour Clinic", "phone": "+64 9 555 0100"}},
            201,
            writes=True,
        ),
    ),
)
def test_thread_endpoints_follow_the_authorization_matrix(
    callers: dict[str, ApiClient],
    clinical_case: Case,
    role: str,
    endpoint: Endpoint,
    status: int,
    audit: list[str],
    changes: bool,
) -> None:
    before = state(clinical_case)

    response = call(callers[role], endpoint, case=clinical_case.pk)

    assert response.status_code == status
    assert outcomes(clinical_case) == audit
    assert (state(clinical_case) != before) is changes


@pytest.mark.parametrize(
    ("role", "endpoint", "status", "audit", "changes"),
    matrix(Endpoint("timeline", "GET", "/cases/{case}/events", None, 200, writes=False)),
)
def test_event_endpoints_follow_the_authorization_matrix(
    callers: dict[str, ApiClient],
    clinical_case: Case,
    role: str,
    endpoint: Endpoint,
    status: int,
    audit: list[str],
    changes: bool,
) -> None:
    before = state(clinical_case)

    response = call(callers[role], endpoint, case=clinical_case.pk)

    assert response.status_code == status
    assert outcomes(clinical_case) == audit
    assert (state(clinical_case) != before) is changes


@pytest.mark.parametrize(
    ("role", "status", "subjects"),
    [
        ("anonymous", 401, None),
        ("customer", 401, None),
        ("uncleared_agent", 200, ["Export is slow"]),
        ("cleared_agent", 200, ["Export is slow", "Session notes screen is blank"]),
    ],
)
def test_case_list_shows_only_the_cases_the_caller_is_cleared_for(
    callers: dict[str, ApiClient],
    clinical_case: Case,
    role: str,
    status: int,
    subjects: list[str] | None,
) -> None:
    make_case(subject="Export is slow")

    response = callers[role].get("/cases")

    assert response.status_code == status
    assert [item["subject"] for item in response.json().get("items", [])] == (subjects or [])


@pytest.mark.parametrize(
    ("role", "status", "cases_after"),
    [
        ("anonymous", 401, 0),
        ("customer", 401, 0),
        ("uncleared_agent", 403, 0),
        ("cleared_agent", 201, 1),
    ],
)
def test_opening_a_clinical_case_needs_clinical_clearance(
    callers: dict[str, ApiClient], role: str, status: int, cases_after: int
) -> None:
    body = {
        "subject": "Care-pathway screen froze",
        "customer": {"email": "clinician@example.org"},
        "message": "It froze.",
        "sensitivity": "clinical",
    }

    response = callers[role].post("/cases", body)

    assert response.status_code == status
    assert Case.objects.count() == cases_after


@pytest.mark.parametrize(
    ("role", "status"),
    [("anonymous", 401), ("customer", 401), ("uncleared_agent", 200), ("cleared_agent", 200)],
)
@pytest.mark.parametrize("path", ["/contacts", "/contacts/{contact}"])
def test_contact_endpoints_need_an_agent(
    callers: dict[str, ApiClient], clinical_case: Case, role: str, status: int, path: str
) -> None:
    response = callers[role].get(path.format(contact=clinical_case.customer_id))

    assert response.status_code == status


@pytest.mark.parametrize(
    ("role", "status", "contacts_added"),
    [("anonymous", 401, 0), ("customer", 401, 0), ("uncleared_agent", 201, 1)],
)
def test_adding_a_contact_needs_an_agent(
    callers: dict[str, ApiClient], role: str, status: int, contacts_added: int
) -> None:
    before = Contact.objects.count()

    response = callers[role].post("/contacts", {"email": "new.person@example.org"})

    assert response.status_code == status
    assert Contact.objects.count() - before == contacts_added
