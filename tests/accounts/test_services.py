from __future__ import annotations

import pytest

from kiwidesk.accounts.models import ApiToken
from kiwidesk.accounts.services import agent_for_token, issue_token, revoke_token


@pytest.mark.django_db
def test_issued_token_authenticates_its_agent_and_only_its_digest_is_stored(agent):
    issued = issue_token(agent)

    assert agent_for_token(issued.secret) == agent
    stored = ApiToken.objects.get()
    assert issued.secret not in (stored.digest, stored.prefix)
    assert stored.last_used_at is not None


@pytest.mark.django_db
def test_revoked_token_no_longer_works(agent):
    issued = issue_token(agent)

    revoke_token(issued.token)

    assert agent_for_token(issued.secret) is None


@pytest.mark.django_db
def test_token_of_a_deactivated_agent_no_longer_works(agent):
    issued = issue_token(agent)
    agent.is_active = False
    agent.save()

    assert agent_for_token(issued.secret) is None


@pytest.mark.django_db
def test_unknown_token_is_refused(agent):
    issue_token(agent)

    assert agent_for_token("kd_guessed") is None
