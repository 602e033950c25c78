from __future__ import annotations

import factory

from kiwidesk.contacts.models import Contact, Identity, IdentityKind, Organisation, Tier


class OrganisationFactory(factory.django.DjangoModelFactory[Organisation]):
    class Meta:
        model = Organisation

    name = factory.Faker("company")
    tier = Tier.STANDARD


class ContactFactory(factory.django.DjangoModelFactory[Contact]):
    """A customer with one email identity."""

    class Meta:
        model = Contact
        skip_postgeneration_save = True

    name = factory.Faker("name")
    organisation = factory.SubFactory(OrganisationFactory)
    email = factory.RelatedFactory(
        "tests.factories.contacts.IdentityFactory",
        factory_related_name="contact",
        kind=IdentityKind.EMAIL,
        value=factory.Sequence(lambda n: f"customer{n}@example.org"),
        is_primary=True,
    )


class IdentityFactory(factory.django.DjangoModelFactory[Identity]):
    class Meta:
        model = Identity

    contact = factory.SubFactory(ContactFactory, email=None)
    kind = IdentityKind.EMAIL
    value = factory.Sequence(lambda n: f"person{n}@example.org")
