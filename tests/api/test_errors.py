"""Every bad request answers 4xx JSON that says what is wrong, and writes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.http.response import HttpResponseBase
from django.test.client import AsyncClientHandler, FakePayload

from kiwidesk.cases import services
from kiwidesk.cases.models import Attachment, Case, Event, Message, Thread
from kiwidesk.contacts.models import Contact, Identity
from tests.api.conftest import ApiClient, b64
from tests.factories.cases import customer_thread, make_case

NEW_CASE = {"subject": "Export is slow", "customer": {"email": "c@example.org"}, "message": "Hi"}


def written() -> tuple[int, ...]:
    """The row counts a refused request must leave as they were."""
    return tuple(
        model.objects.count() for model in (Case, Thread, Message, Attachment, Event, Contact)
    )


def raw_post(api: ApiClient, path: str, body: str | bytes, **environ: str) -> Any:
    return api.client.generic(
        "POST",
        f"/api/v1{path}",
        body,
        content_type="application/json",
        headers=api.headers,
        **environ,  # type: ignore[arg-type]
    )


def test_malformed_json_is_a_400_naming_the_problem(api: ApiClient) -> None:
    before = written()

    response = raw_post(api, "/cases", '{"subject": "Export is slow",')

    assert response.status_code == 400
    assert response.json() == {
        "detail": "The body is not valid JSON: Expecting property name enclosed in double quotes "
        "at line 1."
    }
    assert written() == before


@pytest.mark.parametrize("body", ["[]", "3", '"text"', "null"])
def test_json_that_is_not_an_object_is_a_400(api: ApiClient, body: str) -> None:
    before = written()

    response = raw_post(api, "/cases", body)

    assert response.status_code == 400
    assert response.json() == {"detail": "The body must be a JSON object."}
    assert written() == before


def test_a_body_that_is_not_utf8_is_a_400(api: ApiClient) -> None:
    response = raw_post(api, "/cases", b'{"subject": "\xff"}')

    assert response.status_code == 400
    assert response.json() == {"detail": "The body is not valid JSON: it is not UTF-8."}


def test_missing_fields_are_a_422_listing_each(api: ApiClient) -> None:
    before = written()

    response = api.post("/cases", {"message": "Hi"})

    assert response.status_code == 422
    assert [(error["loc"], error["type"]) for error in response.json()["detail"]] == [
        (["body", "body", "subject"], "missing"),
        (["body", "body", "customer"], "missing"),
    ]
    assert written() == before


def test_wrong_types_and_unknown_choices_are_a_422(api: ApiClient) -> None:
    before = written()

    response = api.post("/cases", {**NEW_CASE, "subject": 5, "priority": "extreme"})

    assert response.status_code == 422
    assert [(error["loc"][-1], error["type"]) for error in response.json()["detail"]] == [
        ("subject", "string_type"),
        ("priority", "enum"),
    ]
    assert written() == before


def test_a_customer_without_any_address_is_a_422(api: ApiClient) -> None:
    response = api.post("/cases", {**NEW_CASE, "customer": {"name": "Someone"}})

    assert response.status_code == 422
    assert "give the customer's id, email, phone or whatsapp" in response.json()["detail"][0]["msg"]


@pytest.mark.parametrize(
    ("customer", "detail"),
    [
        ({"email": "not an address"}, "Invalid address: 'not an address' is not an email address."),
        ({"phone": "555-0100"}, "Invalid address: '555-0100' is not an E.164 phone number."),
        (
            {"email": "fine@example.org", "whatsapp": "12"},
            "Invalid address: '12' is not an E.164 phone number.",
        ),
    ],
)
def test_an_invalid_email_or_phone_is_a_422_and_creates_no_one(
    api: ApiClient, customer: dict[str, str], detail: str
) -> None:
    before = written()

    response = api.post("/cases", {**NEW_CASE, "customer": customer})

    assert response.status_code == 422
    assert response.json() == {"detail": detail}
    assert written() == before
    assert Identity.objects.count() == 0


def test_an_invalid_third_party_phone_is_a_422(api: ApiClient, case: Case) -> None:
    before = written()

    response = api.post(f"/cases/{case.pk}/threads", {"contact": {"phone": "call me"}})

    assert response.status_code == 422
    assert response.json() == {"detail": "Invalid address: 'call me' is not an E.164 phone number."}
    assert written() == before


@pytest.mark.parametrize(
    ("path", "detail"),
    [
        ("/cases/987654", "Case 987654 not found."),
        ("/cases/987654/messages", "Case 987654 not found."),
        ("/cases/987654/events", "Case 987654 not found."),
        ("/contacts/987654", "Contact 987654 not found."),
    ],
)
def test_unknown_ids_are_a_404(api: ApiClient, path: str, detail: str) -> None:
    response = api.get(path)

    assert response.status_code == 404
    assert response.json() == {"detail": detail}


def test_replying_on_an_unknown_thread_is_a_404(api: ApiClient) -> None:
    response = api.post("/threads/987654/messages", {"text": "Hello"})

    assert response.status_code == 404
    assert response.json() == {"detail": "Thread 987654 not found."}


def test_a_thread_above_clearance_names_its_case_so_break_glass_can_follow(
    api: ApiClient, clinical_case: Case
) -> None:
    thread = customer_thread(clinical_case)
    before = written()

    response = api.post(f"/threads/{thread.pk}/messages", {"text": "Hello"})

    assert response.status_code == 403
    assert response.json() == {
        "detail": f"Case #{clinical_case.pk} is clinical: your clearance does not cover it. "
        f"To open it for a while, POST a reason to /api/v1/cases/{clinical_case.pk}/break-glass "
        "(the leads are told)."
    }
    assert written() == before


@pytest.mark.parametrize(
    ("body", "field", "detail"),
    [
        ({"assignee": 987654}, "assignee_id", "There is no active agent with id 987654."),
        ({"team": 987654}, "team_id", "There is no team with id 987654."),
    ],
)
def test_patch_naming_an_unknown_agent_or_team_is_a_422(
    api: ApiClient, case: Case, body: dict[str, int], field: str, detail: str
) -> None:
    response = api.patch(f"/cases/{case.pk}", body)

    assert response.status_code == 422
    assert response.json() == {"detail": detail}
    assert getattr(Case.objects.get(pk=case.pk), field) is None


def test_a_due_date_without_a_time_zone_is_a_422(api: ApiClient, case: Case) -> None:
    response = api.patch(f"/cases/{case.pk}", {"due_at": "2026-12-01T09:00:00"})

    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "timezone_aware"
    assert Case.objects.get(pk=case.pk).due_at is None


def test_a_null_for_a_field_that_cannot_be_empty_is_a_422(api: ApiClient, case: Case) -> None:
    response = api.patch(f"/cases/{case.pk}", {"subject": None, "status": None})

    assert response.status_code == 422
    assert [error["loc"][-1] for error in response.json()["detail"]] == ["subject", "status"]


def test_text_with_a_nul_character_is_a_422(api: ApiClient, case: Case) -> None:
    before = written()

    response = api.post(f"/cases/{case.pk}/notes", {"text": "before\x00after"})

    assert response.status_code == 422
    assert "must not contain NUL characters" in response.json()["detail"][0]["msg"]
    assert written() == before


def test_merging_a_case_into_itself_is_a_400(api: ApiClient, case: Case) -> None:
    before = written()

    response = api.post(f"/cases/{case.pk}/merge", {"into": case.pk})

    assert response.status_code == 400
    assert response.json() == {"detail": "Cannot merge: a case cannot be merged into itself."}
    assert written() == before


def test_merging_into_a_case_already_merged_is_a_400(api: ApiClient, case: Case) -> None:
    merged = make_case(subject="Merged away")
    services.merge_cases(None, source=merged, target=case)
    other = make_case(subject="Another")
    before = written()

    response = api.post(f"/cases/{other.pk}/merge", {"into": merged.pk})

    assert response.status_code == 400
    assert response.json() == {
        "detail": "Cannot merge: a case that was merged into another cannot take part in a merge."
    }
    assert written() == before


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/cases/{case}/notes", {"text": "   "}),
        ("/threads/{thread}/messages", {"text": "", "html": " "}),
    ],
)
def test_an_empty_message_is_a_422(
    api: ApiClient, case: Case, path: str, body: dict[str, str]
) -> None:
    before = written()

    response = api.post(path.format(case=case.pk, thread=customer_thread(case).pk), body)

    assert response.status_code == 422
    assert response.json() == {
        "detail": "The message is empty: a message needs text or an attachment."
    }
    assert written() == before


def test_opening_a_case_with_an_empty_message_writes_nothing(api: ApiClient) -> None:
    before = written()

    response = api.post("/cases", {**NEW_CASE, "message": ""})

    assert response.status_code == 422
    assert written() == before


def test_an_attachment_that_could_run_code_is_refused(api: ApiClient, case: Case) -> None:
    body = {
        "text": "See file",
        "attachments": [{"filename": "fix.exe", "content_base64": b64(b"MZ")}],
    }
    before = written()

    response = api.post(f"/threads/{customer_thread(case).pk}/messages", body)

    assert response.status_code == 422
    assert response.json() == {
        "detail": "Attachment refused: fix.exe is a type that could run code."
    }
    assert written() == before


def test_an_attachment_over_the_limit_is_refused(api: ApiClient, case: Case, settings: Any) -> None:
    settings.KIWIDESK_MAX_ATTACHMENT_BYTES = 3
    body = {"text": "Log", "attachments": [{"filename": "log.txt", "content_base64": b64(b"1234")}]}
    before = written()

    response = api.post(f"/cases/{case.pk}/notes", body)

    assert response.status_code == 422
    assert response.json() == {"detail": "Attachment refused: log.txt is 4 bytes; the limit is 3."}
    assert written() == before


def test_an_attachment_that_is_not_base64_is_a_422(api: ApiClient, case: Case) -> None:
    body = {"text": "Log", "attachments": [{"filename": "log.txt", "content_base64": "no!"}]}

    response = api.post(f"/cases/{case.pk}/notes", body)

    assert response.status_code == 422
    assert "content_base64 is not valid base64" in response.json()["detail"][0]["msg"]


def test_adding_a_contact_with_a_known_address_is_a_409(api: ApiClient, case: Case) -> None:
    email = case.customer.identities.get().value
    before = written()

    response = api.post("/contacts", {"name": "Duplicate", "email": email})

    assert response.status_code == 409
    assert response.json() == {
        "detail": f"The email {email} already belongs to contact {case.customer_id}."
    }
    assert written() == before


TOO_BIG = {"detail": "The request body is larger than the limit of 10485760 bytes."}


def _oversized_note() -> str:
    return json.dumps({"text": "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE})


def test_a_body_over_10_mb_is_a_413(api: ApiClient, case: Case) -> None:
    before = written()

    response = raw_post(api, f"/cases/{case.pk}/notes", _oversized_note())

    assert response.status_code == 413
    assert response.json() == TOO_BIG
    assert written() == before


def test_a_content_length_over_10_mb_is_a_413_before_the_body_is_read(
    api: ApiClient, case: Case
) -> None:
    response = raw_post(
        api, f"/cases/{case.pk}/notes", '{"text": "short"}', CONTENT_LENGTH=str(11 * 2**20)
    )

    assert response.status_code == 413
    assert response.json() == TOO_BIG


def asgi_post(path: str, body: str, headers: list[tuple[bytes, bytes]]) -> HttpResponseBase:
    """Post the way an ASGI server passes a chunked body: whatever Content-Length claims."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "path": path,
        "query_string": "",
        "scheme": "http",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 50000),
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"), *headers],
        "_body_file": FakePayload(body),
    }
    response: HttpResponseBase = async_to_sync(AsyncClientHandler(enforce_csrf_checks=False))(scope)
    return response


@pytest.mark.parametrize(
    "content_length", [[], [(b"content-length", b"17")]], ids=["absent", "understated"]
)
def test_an_oversized_body_is_a_413_whatever_content_length_says(
    api: ApiClient, case: Case, content_length: list[tuple[bytes, bytes]]
) -> None:
    token = api.headers["Authorization"].encode()
    before = written()

    response = asgi_post(
        f"/api/v1/cases/{case.pk}/notes",
        _oversized_note(),
        [(b"authorization", token), *content_length],
    )

    assert response.status_code == 413
    assert json.loads(response.content) == TOO_BIG  # type: ignore[attr-defined]
    assert written() == before


def test_half_a_surrogate_pair_is_a_400(api: ApiClient, case: Case) -> None:
    before = written()

    response = raw_post(api, f"/cases/{case.pk}/notes", '{"text": "a\\ud800b"}')

    assert response.status_code == 400
    assert response.json() == {
        "detail": "The body holds an unpaired surrogate escape such as \\ud800."
    }
    assert written() == before


def test_an_unknown_api_path_is_a_json_404(api: ApiClient, case: Case) -> None:
    response = api.get(f"/cases/{case.pk}/nothing-here")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
