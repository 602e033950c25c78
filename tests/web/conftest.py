from __future__ import annotations

import pytest
from django.test import Client

from kiwidesk.accounts.models import Agent, Clearance
from tests.accounts.authenticator import verify_session


@pytest.fixture
def agent_client(client: Client, agent: Agent) -> Client:
    client.force_login(agent)
    return client


@pytest.fixture
def clinical_client(client: Client, clinical_agent: Agent) -> Client:
    """Logged in and past the second factor, as clinical content needs."""
    client.force_login(clinical_agent)
    verify_session(client, clinical_agent)
    return client


def log_in(client: Client, actor: Agent | None) -> None:
    """Log `actor` in; None stays anonymous (for authorization matrices).

    An agent cleared for clinical content also passes the second factor, so the
    matrices test clearance; tests/privacy/test_access_matrix.py tests the factor.
    """
    if actor is not None:
        client.force_login(actor)
        if actor.clearance == Clearance.CLINICAL:
            verify_session(client, actor)
