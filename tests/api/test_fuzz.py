"""Whatever JSON arrives, the API answers below 500: a clear refusal, never a crash."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiwidesk.cases.models import Case
from tests.api.conftest import ApiClient
from tests.factories.cases import customer_thread

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    # Every code point, lone surrogates included: JSON can carry them, databases cannot.
    st.text(st.characters(exclude_categories=()), max_size=40),
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


def bodies(*fields: str) -> st.SearchStrategy[dict[str, Any]]:
    """Objects that use the endpoint's own field names, so validation is reached, not skipped."""
    return st.dictionaries(st.sampled_from(fields) | st.text(max_size=8), json_values, max_size=6)


ENDPOINTS = [
    ("POST", "/cases", bodies("subject", "customer", "message", "channel", "priority", "tags")),
    ("PATCH", "/cases/{case}", bodies("subject", "status", "assignee", "team", "due_at", "tags")),
    ("POST", "/cases/{case}/merge", bodies("into")),
    ("POST", "/cases/{case}/threads", bodies("contact_id", "contact", "channel", "subject")),
    ("POST", "/cases/{case}/notes", bodies("text", "attachments")),
    ("POST", "/threads/{thread}/messages", bodies("text", "html", "attachments")),
    ("POST", "/contacts", bodies("name", "email", "phone", "whatsapp", "organisation_id")),
]


@pytest.mark.parametrize(
    ("method", "path", "strategy"), ENDPOINTS, ids=[f"{m} {p}" for m, p, _ in ENDPOINTS]
)
def test_no_json_body_makes_the_api_fail(
    api: ApiClient, case: Case, method: str, path: str, strategy: st.SearchStrategy[Any]
) -> None:
    url = path.format(case=case.pk, thread=customer_thread(case).pk)

    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(body=strategy | json_values)
    def answers_below_500(body: Any) -> None:
        # Encoded here: the test client sends a bare string as raw bytes, and a lone
        # surrogate has no bytes; as JSON it travels escaped, as a client would send it.
        response = api.send(method, url, json.dumps(body))

        assert response.status_code < 500, response.content

    answers_below_500()


@given(
    query=st.dictionaries(
        st.sampled_from(
            ["view", "status", "team", "assignee", "tag", "q", "sort", "limit", "offset"]
        ),
        st.text(max_size=12) | st.integers(min_value=-(2**70), max_value=2**70).map(str),
        max_size=5,
    )
)
@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_query_string_makes_the_case_list_fail(api: ApiClient, query: dict[str, str]) -> None:
    response = api.get("/cases", **query)

    assert response.status_code in (200, 422), response.content


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/cases/{id}"),
        ("GET", "/cases/{id}/events"),
        ("POST", "/cases/{id}/notes"),
        ("POST", "/threads/{id}/messages"),
        ("GET", "/contacts/{id}"),
    ],
)
def test_no_id_in_the_path_makes_the_api_fail(api: ApiClient, method: str, path: str) -> None:
    @settings(
        max_examples=30,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(
        case_id=st.integers(min_value=-(2**70), max_value=2**70).map(str)
        | st.text(st.characters(codec="ascii", exclude_characters="/?#%"), min_size=1)
    )
    def answers_404_or_422(case_id: str) -> None:
        response = api.send(method, path.format(id=case_id), {"text": "Hello"})

        assert response.status_code in (404, 422), response.content

    answers_404_or_422()
