"""The composer's warning: personal data going to a party who did not give it to us."""

from __future__ import annotations

import pytest

from kiwidesk.cases import services
from kiwidesk.cases.models import Channel
from kiwidesk.privacy.disclosure import (
    DisclosureNotConfirmedError,
    check_disclosure,
    disclosures,
    record_disclosure,
)
from kiwidesk.privacy.models import AuditRecord
from tests.factories.cases import customer_thread, make_case
from tests.factories.contacts import ContactFactory

CARD = "4111 1111 1111 1111"
PHONE = "+44 20 7946 0958"


@pytest.fixture
def case(agent):
    customer = ContactFactory(email__value="ana@example.org")
    return make_case(customer=customer, message_text=f"My card is {CARD}, call {PHONE}")


@pytest.fixture
def restaurant_thread(agent, case):
    restaurant = ContactFactory(is_third_party=True, email__value="bookings@restaurant.test")
    return services.open_thread(agent, case, contact=restaurant, channel=Channel.EMAIL)


@pytest.mark.django_db(databases="__all__")
def test_values_the_customer_gave_us_go_back_to_them_without_a_warning(case):
    thread = customer_thread(case)

    text = f"We have your card ending {CARD} and will call {PHONE}; mail ana@example.org."
    assert disclosures(thread, text) == []


@pytest.mark.django_db(databases="__all__")
def test_the_customers_phone_to_a_restaurant_is_a_disclosure(agent, restaurant_thread):
    text = f"Table for four; the guest's number is {PHONE}, email ana@example.org."

    found = disclosures(restaurant_thread, text)

    assert [(d.type, text[d.start : d.end]) for d in found] == [
        ("phone", PHONE),
        ("email", "ana@example.org"),
    ]
    with pytest.raises(DisclosureNotConfirmedError, match="phone number, email address"):
        check_disclosure(restaurant_thread, text, confirmed=False)
    assert found[0].masked == "••••0958"


@pytest.mark.django_db(databases="__all__")
def test_a_confirmed_disclosure_is_audited_by_type_and_not_asked_again(agent, restaurant_thread):
    text = f"Please call the guest on {PHONE}."

    confirmed = check_disclosure(restaurant_thread, text, confirmed=True)
    services.reply(agent, restaurant_thread, text=text)
    record_disclosure(agent, restaurant_thread, confirmed)

    record = AuditRecord.objects.get(action="pii.disclose")
    assert (record.object_id, record.reason) == (str(restaurant_thread.pk), "phone")
    assert PHONE not in record.reason
    assert disclosures(restaurant_thread, text) == []


@pytest.mark.django_db(databases="__all__")
def test_the_restaurants_own_address_is_theirs(restaurant_thread):
    assert disclosures(restaurant_thread, "Confirming with bookings@restaurant.test") == []
