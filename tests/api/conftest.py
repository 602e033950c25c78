"""Fixtures for calling the API as an agent with a bearer token."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from django.test import Client

from kiwidesk.accounts.models import Agent
from kiwidesk.accounts.services import issue_token
from kiwidesk.cases.models import Case
from tests.accounts.authenticator import clinical_token
from tests.factories.cases import make_case


class ApiClient:
    """The Django test client, speaking JSON with one agent's bearer token."""

    def __init__(self, client: Client, secret: str | None) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {secret}"} if secret else {}

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(f"/api/v1{path}", params, headers=self.headers)

    def post(self, path: str, body: Any) -> Any:
        return self.client.post(
            f"/api/v1{path}", body, content_type="application/json", headers=self.headers
        )

    def patch(self, path: str, body: Any) -> Any:
        return self.client.patch(
            f"/api/v1{path}", body, content_type="application/json", headers=self.headers
        )

    def send(self, method: str, path: str, body: Any = None) -> Any:
        if method == "GET":
            return self.get(path)
        if method == "PATCH":
            return self.patch(path, body)
        return self.post(path, body)


@pytest.fixture
def api(client: Client, agent: Agent) -> ApiClient:
    return ApiClient(client, issue_token(agent).secret)


@pytest.fixture
def clinical_api(client: Client, clinical_agent: Agent) -> ApiClient:
    return ApiClient(client, clinical_token(clinical_agent))


@pytest.fixture
def case(agent: Agent) -> Case:
    return make_case(agent, subject="The care-pathway screen froze")


def b64(content: bytes) -> str:
    return base64.b64encode(content).decode()


CUSTOMER_TOKEN = "kd_a-customer-has-no-agent-token"


@pytest.fixture
def callers(client: Client, agent: Agent, clinical_agent: Agent) -> dict[str, ApiClient]:
    """One caller per row of the authorization matrix."""
    return {
        "anonymous": ApiClient(client, None),
        "customer": ApiClient(client, CUSTOMER_TOKEN),
        "uncleared_agent": ApiClient(client, issue_token(agent).secret),
        "cleared_agent": ApiClient(client, clinical_token(clinical_agent)),
    }


@pytest.fixture
def clinical_case(clinical_agent: Agent) -> Case:
    return make_case(
        clinical_agent, subject="Session notes screen is blank", sensitivity="clinical"
    )
