from __future__ import annotations

import pytest
from django.test import Client

from kiwidesk.accounts.models import Agent


@pytest.fixture
def agent_client(client: Client, agent: Agent) -> Client:
    client.force_login(agent)
    return client


@pytest.fixture
def clinical_client(client: Client, clinical_agent: Agent) -> Client:
    client.force_login(clinical_agent)
    return client


def log_in(client: Client, actor: Agent | None) -> None:
    """Log `actor` in; None stays anonymous (for authorization matrices)."""
    if actor is not None:
        client.force_login(actor)
