"""Cases are built through the services, so tests cannot create states the product cannot."""

from __future__ import annotations

from typing import Any

from kiwidesk.accounts.models import Agent
from kiwidesk.cases import services
from kiwidesk.cases.models import Case, Channel, Party, Thread
from kiwidesk.contacts.models import Contact
from tests.factories.contacts import ContactFactory


def make_case(
    actor: Agent | None = None,
    *,
    customer: Contact | None = None,
    subject: str = "The care-pathway screen froze",
    message_text: str = "It froze again during my session this morning.",
    channel: str = Channel.EMAIL,
    **fields: Any,
) -> Case:
    return services.open_case(
        actor,
        customer=customer or ContactFactory(),
        subject=subject,
        message_text=message_text,
        channel=channel,
        **fields,
    )


def customer_thread(case: Case) -> Thread:
    return case.threads.get(party=Party.CUSTOMER)


def make_third_party_thread(
    actor: Agent, case: Case, *, channel: str = Channel.PHONE, name: str = "Harbour View Restaurant"
) -> Thread:
    vendor = ContactFactory(name=name, is_third_party=True)
    return services.open_thread(actor, case, contact=vendor, channel=channel)
