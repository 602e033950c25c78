"""The call log through the API: logging, listing, and downloading a recording."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiwidesk.accounts.models import Agent
from kiwidesk.cases.content import NewAttachment
from kiwidesk.cases.models import Call, CallOutcome, Case, Channel, Direction, Event
from kiwidesk.cases.services import CallDetails, attach_recording, log_call
from kiwidesk.contacts.models import IdentityKind
from kiwidesk.contacts.services import find_or_create_contact
from kiwidesk.privacy.models import AuditRecord
from tests.api.conftest import ApiClient
from tests.api.test_fuzz import bodies, json_values
from tests.factories.cases import customer_thread, make_case, make_third_party_thread

pytestmark = pytest.mark.django_db

CUSTOMER_NUMBER = "+447700900123"
WAV = b"RIFF$\x00\x00\x00WAVEfmt " + bytes(24)


@pytest.fixture
def phone_case(agent: Agent) -> Case:
    customer = find_or_create_contact(IdentityKind.PHONE, CUSTOMER_NUMBER, name="Customer")
    return make_case(agent, customer=customer, channel=Channel.WHATSAPP)


def a_call(thread_id: int, **fields: Any) -> dict[str, Any]:
    return {
        "thread_id": thread_id,
        "direction": "outbound",
        "outcome": "answered",
        "duration_seconds": 125,
        "notes": "Confirmed the table for six.",
        **fields,
    }


def recorded_call(agent: Agent, case: Case) -> Call:
    call = log_call(
        agent,
        case.threads.get(channel=Channel.WHATSAPP),
        details=CallDetails(direction=Direction.OUTBOUND, outcome=CallOutcome.ANSWERED),
    )
    return attach_recording(
        call, recording=NewAttachment("RE1.wav", "audio/wav", WAV), recording_sid="RE1"
    )


def test_logging_a_call_answers_it_with_its_numbers_and_thread(
    api: ApiClient, phone_case: Case
) -> None:
    response = api.post(
        f"/cases/{phone_case.pk}/calls",
        a_call(customer_thread(phone_case).pk, our_number="+44 7700 900999"),
    )

    assert response.status_code == 201
    body = response.json()
    call = Call.objects.select_related("message__thread").get()
    assert body["id"] == call.pk
    assert body["thread_id"] == call.message.thread_id
    assert call.message.thread.channel == Channel.PHONE
    assert (body["party"], body["direction"], body["outcome"]) == (
        "customer",
        "outbound",
        "answered",
    )
    assert (body["from_number"], body["to_number"]) == ("+447700900999", CUSTOMER_NUMBER)
    assert (body["duration_seconds"], body["notes"]) == (125, "Confirmed the table for six.")
    assert (body["recording_url"], body["transcript"]) == (None, "")


def test_a_call_with_a_third_party_is_logged_on_their_thread(
    api: ApiClient, agent: Agent, phone_case: Case
) -> None:
    vendor = make_third_party_thread(agent, phone_case)

    response = api.post(
        f"/cases/{phone_case.pk}/calls", a_call(vendor.pk, party_number="+1 202 555 0143")
    )

    assert response.status_code == 201
    assert response.json()["party"] == "third_party"
    assert response.json()["thread_id"] == vendor.pk


def test_the_call_log_lists_every_call_of_the_case(
    api: ApiClient, agent: Agent, phone_case: Case
) -> None:
    thread = customer_thread(phone_case)
    api.post(f"/cases/{phone_case.pk}/calls", a_call(thread.pk, outcome="no_answer"))
    api.post(f"/cases/{phone_case.pk}/calls", a_call(thread.pk, direction="inbound"))

    response = api.get(f"/cases/{phone_case.pk}/calls")

    assert response.status_code == 200
    assert [(c["direction"], c["outcome"]) for c in response.json()] == [
        ("outbound", "no_answer"),
        ("inbound", "answered"),
    ]


def test_the_call_log_costs_a_fixed_number_of_queries(
    api: ApiClient, agent: Agent, phone_case: Case, django_assert_max_num_queries: Any
) -> None:
    for _ in range(5):
        recorded_call(agent, phone_case)

    # The audit record reads the chain's head, and on PostgreSQL takes its lock first.
    with django_assert_max_num_queries(9):
        response = api.get(f"/cases/{phone_case.pk}/calls")

    assert len(response.json()) == 5


@pytest.mark.parametrize(
    ("fields", "location"),
    [
        ({"direction": "note"}, "direction"),
        ({"outcome": "maybe"}, "outcome"),
        ({"duration_seconds": -1}, "duration_seconds"),
        ({"started_at": "2999-01-01T00:00:00+00:00"}, "started_at"),
        ({"started_at": "2026-01-01T00:00:00"}, "started_at"),
        ({"notes": "a\x00b"}, "notes"),
    ],
)
def test_a_call_of_the_wrong_shape_is_refused_with_the_field_named(
    api: ApiClient, phone_case: Case, fields: dict[str, Any], location: str
) -> None:
    response = api.post(
        f"/cases/{phone_case.pk}/calls", a_call(customer_thread(phone_case).pk, **fields)
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == location
    assert Call.objects.count() == 0


def test_a_number_that_is_not_one_is_refused(api: ApiClient, phone_case: Case) -> None:
    response = api.post(
        f"/cases/{phone_case.pk}/calls",
        a_call(customer_thread(phone_case).pk, party_number="not a number"),
    )

    assert response.status_code == 422
    assert response.json()["detail"].startswith("Invalid address:")
    assert Call.objects.count() == 0


def test_a_party_without_a_number_on_file_needs_one(api: ApiClient, agent: Agent) -> None:
    case = make_case(agent)

    response = api.post(f"/cases/{case.pk}/calls", a_call(customer_thread(case).pk))

    assert response.status_code == 422
    assert "has no phone number on file" in response.json()["detail"]


def test_a_thread_of_another_case_is_not_found(
    api: ApiClient, agent: Agent, phone_case: Case
) -> None:
    other = make_case(agent)

    response = api.post(f"/cases/{phone_case.pk}/calls", a_call(customer_thread(other).pk))

    assert response.status_code == 404
    assert response.json() == {"detail": f"Thread {customer_thread(other).pk} not found."}


def test_the_internal_thread_cannot_take_a_call(api: ApiClient, phone_case: Case) -> None:
    api.post(f"/cases/{phone_case.pk}/notes", {"text": "Calling them now."})
    internal = phone_case.threads.get(party="internal")

    response = api.post(f"/cases/{phone_case.pk}/calls", a_call(internal.pk))

    assert response.status_code == 422
    assert response.json()["detail"].startswith("The internal thread has no party")


def test_a_provider_call_id_logged_twice_is_a_conflict(api: ApiClient, phone_case: Case) -> None:
    body = a_call(customer_thread(phone_case).pk, source="twilio", provider_call_id="CA42")
    first = api.post(f"/cases/{phone_case.pk}/calls", body)

    again = api.post(f"/cases/{phone_case.pk}/calls", body)

    assert again.status_code == 409
    assert again.json() == {"detail": f"That call is already logged as call {first.json()['id']}."}
    assert Call.objects.count() == 1


def test_a_recording_downloads_with_its_audio_type(
    api: ApiClient, agent: Agent, phone_case: Case
) -> None:
    call = recorded_call(agent, phone_case)

    listed = api.get(f"/cases/{phone_case.pk}/calls").json()[0]
    response = api.client.get(listed["recording_url"], headers=api.headers)

    assert listed["recording_url"] == f"/api/v1/calls/{call.pk}/recording"
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/wav"
    assert b"".join(response.streaming_content) == WAV


def test_a_call_without_a_recording_has_none_to_download(
    api: ApiClient, agent: Agent, phone_case: Case
) -> None:
    call = log_call(
        agent,
        customer_thread(phone_case),
        details=CallDetails(direction=Direction.OUTBOUND, outcome=CallOutcome.BUSY),
    )

    response = api.get(f"/calls/{call.pk}/recording")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_a_missing_call_and_a_forbidden_recording_answer_alike(
    callers: dict[str, ApiClient], clinical_agent: Agent, clinical_case: Case
) -> None:
    call = log_call(
        clinical_agent,
        customer_thread(clinical_case),
        details=CallDetails(
            direction=Direction.INBOUND, outcome=CallOutcome.ANSWERED, party_number="+6495550100"
        ),
    )
    attach_recording(
        call, recording=NewAttachment("RE1.wav", "audio/wav", WAV), recording_sid="RE1"
    )

    forbidden = callers["uncleared_agent"].get(f"/calls/{call.pk}/recording")
    missing = callers["uncleared_agent"].get(f"/calls/{call.pk + 1000}/recording")

    assert (forbidden.status_code, forbidden.json()) == (404, {"detail": "Not found."})
    assert (missing.status_code, missing.json()) == (404, {"detail": "Not found."})
    audit = AuditRecord.objects.get(object_id=str(clinical_case.pk))
    assert (audit.action, audit.outcome) == ("case.view", "denied")


@pytest.mark.parametrize(
    ("role", "status", "audit", "calls_after"),
    [
        ("anonymous", 401, [], 0),
        ("customer", 401, [], 0),
        ("uncleared_agent", 403, ["denied"], 0),
        ("cleared_agent", 201, ["granted"], 1),
    ],
)
def test_logging_a_call_follows_the_authorization_matrix(
    callers: dict[str, ApiClient],
    clinical_case: Case,
    role: str,
    status: int,
    audit: list[str],
    calls_after: int,
) -> None:
    events_before = Event.objects.count()

    response = callers[role].post(
        f"/cases/{clinical_case.pk}/calls",
        a_call(customer_thread(clinical_case).pk, party_number="+6495550100"),
    )

    assert response.status_code == status
    assert Call.objects.count() == calls_after
    assert (Event.objects.count() > events_before) is bool(calls_after)
    assert (
        list(
            AuditRecord.objects.filter(object_id=str(clinical_case.pk)).values_list(
                "outcome", flat=True
            )
        )
        == audit
    )


@pytest.mark.parametrize(
    ("role", "status", "audit"),
    [
        ("anonymous", 401, []),
        ("customer", 401, []),
        ("uncleared_agent", 403, ["denied"]),
        ("cleared_agent", 200, ["granted"]),
    ],
)
def test_the_call_log_follows_the_authorization_matrix(
    callers: dict[str, ApiClient],
    clinical_case: Case,
    role: str,
    status: int,
    audit: list[str],
) -> None:
    response = callers[role].get(f"/cases/{clinical_case.pk}/calls")

    assert response.status_code == status
    assert (
        list(
            AuditRecord.objects.filter(object_id=str(clinical_case.pk)).values_list(
                "outcome", flat=True
            )
        )
        == audit
    )


CALL_FIELDS = (
    "thread_id",
    "direction",
    "outcome",
    "party_number",
    "our_number",
    "duration_seconds",
    "started_at",
    "notes",
    "source",
    "provider_call_id",
)


def test_no_json_body_makes_logging_a_call_fail(api: ApiClient, phone_case: Case) -> None:
    thread_id = customer_thread(phone_case).pk
    valid = a_call(thread_id)
    # Half the bodies start from a valid call with some fields replaced, so the service
    # is reached with odd numbers and notes, not only the schema.
    mixed = st.builds(lambda changes: {**valid, **changes}, bodies(*CALL_FIELDS))

    @settings(
        max_examples=80,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(body=mixed | bodies(*CALL_FIELDS) | json_values)
    def answers_below_500(body: Any) -> None:
        response = api.post(f"/cases/{phone_case.pk}/calls", body)

        assert response.status_code < 500, response.content

    answers_below_500()


@given(party_number=st.text(max_size=40))
@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_typed_number_makes_logging_a_call_fail(
    api: ApiClient, phone_case: Case, party_number: str
) -> None:
    thread = phone_case.threads.get(channel=Channel.WHATSAPP)

    response = api.post(
        f"/cases/{phone_case.pk}/calls", a_call(thread.pk, party_number=party_number)
    )

    assert response.status_code in (201, 422), response.content
