"""The demo's teams, agents, organisations and contacts (generated names, reserved domains)."""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from faker import Faker

from kiwidesk.accounts.models import Agent, Clearance, Role, Team
from kiwidesk.contacts.models import (
    Contact,
    Identity,
    IdentityKind,
    Organisation,
    OrganisationKind,
    Tier,
)
from kiwidesk.seed.story import Named
from kiwidesk.seed.texts import PRACTICE_NAMES, THIRD_PARTIES, VIP_HOUSEHOLDS

DEMO_EMAIL = "demo@kiwidesk.test"
CLINICIAN_SUPPORT = "clinician-support"
CONCIERGE = "concierge"
ENGINEERING = "engineering-escalations"
TEAMS = (
    ("Clinician support", CLINICIAN_SUPPORT),
    ("Concierge", CONCIERGE),
    ("Engineering escalations", ENGINEERING),
)
# (role, clearance, team slugs): the demo login first, then the admin, then the floor.
AGENT_SHAPES = (
    (Role.LEAD, Clearance.CLINICAL, (CLINICIAN_SUPPORT, CONCIERGE, ENGINEERING)),
    (Role.ADMIN, Clearance.CLINICAL, (ENGINEERING,)),
    (Role.AGENT, Clearance.CLINICAL, (CLINICIAN_SUPPORT,)),
    (Role.AGENT, Clearance.CLINICAL, (CLINICIAN_SUPPORT,)),
    (Role.AGENT, Clearance.CONFIDENTIAL, (CLINICIAN_SUPPORT,)),
    (Role.AGENT, Clearance.CONFIDENTIAL, (CONCIERGE,)),
    (Role.AGENT, Clearance.CONFIDENTIAL, (CONCIERGE,)),
    (Role.AGENT, Clearance.NORMAL, (CONCIERGE,)),
    (Role.AGENT, Clearance.CLINICAL, (ENGINEERING,)),
    (Role.AGENT, Clearance.NORMAL, (ENGINEERING,)),
    # Outside the teams' rotas, so the story never has them write to customers.
    (Role.ENGINEER, Clearance.CONFIDENTIAL, ()),
    (Role.QA, Clearance.CONFIDENTIAL, ()),
)
CLEARANCE_RANK: dict[str, int] = {
    Clearance.NORMAL: 0,
    Clearance.CONFIDENTIAL: 1,
    Clearance.CLINICAL: 2,
}


@dataclass(frozen=True)
class SeedAgent:
    who: Named
    first_name: str
    clearance: str
    teams: tuple[str, ...]

    def may_open(self, sensitivity: str) -> bool:
        return CLEARANCE_RANK[self.clearance] >= CLEARANCE_RANK[sensitivity]


@dataclass(frozen=True)
class SeedContact:
    id: int
    first_name: str
    tier: str
    kinds: frozenset[str]  # identity kinds the contact can be reached on


@dataclass
class Cast:
    """Everyone the stories can involve."""

    teams: dict[str, Named]
    agents: list[SeedAgent]
    clinicians: list[SeedContact] = field(default_factory=list)
    vips: list[SeedContact] = field(default_factory=list)
    vendors: dict[str, list[tuple[SeedContact, str]]] = field(default_factory=dict)

    @property
    def lead(self) -> SeedAgent:
        return self.agents[0]

    def team_agents(self, slug: str) -> list[SeedAgent]:
        return [a for a in self.agents[2:] if slug in a.teams]


def create_cast(rng: random.Random, *, contacts: int) -> Cast:
    faker = Faker(["en_GB", "en_US", "fr_FR", "it_IT", "de_DE"])
    faker.seed_instance(rng.randrange(2**32))
    teams = _create_teams()
    cast = Cast(teams=teams, agents=_create_agents(faker, teams))
    phones = _PhoneBook()
    _create_vendors(cast, phones)
    _create_customers(cast, faker, rng, phones, count=contacts - _vendor_count())
    return cast


def _create_teams() -> dict[str, Named]:
    teams = {}
    for name, slug in TEAMS:
        team, _ = Team.objects.get_or_create(
            slug=slug, defaults={"name": name, "email": f"{slug}@kiwidesk.test"}
        )
        teams[slug] = Named(team.pk, team.name)
    return teams


def _create_agents(faker: Faker, teams: dict[str, Named]) -> list[SeedAgent]:
    # Generated agents cannot log in; the demo login gets its password from demo.py.
    unusable = make_password(None)
    agents = []
    for index, (role, clearance, slugs) in enumerate(AGENT_SHAPES):
        first, last = _ascii(faker.first_name()), _ascii(faker.last_name())
        email = DEMO_EMAIL if index == 0 else f"{first}.{last}@kiwidesk.test".lower()
        agent, _ = Agent.objects.get_or_create(
            email=email,
            defaults={
                "name": f"{first} {last}",
                "role": role,
                "clearance": clearance,
                "is_staff": role == Role.ADMIN,
                "is_superuser": role == Role.ADMIN,
                "password": unusable,
            },
        )
        agent.teams.add(*[teams[slug].id for slug in slugs])
        who = Named(agent.pk, str(agent))
        agents.append(SeedAgent(who, agent.name.split(" ")[0], agent.clearance, slugs))
    return agents


def _vendor_count() -> int:
    return sum(len(names) for names in THIRD_PARTIES.values())


def _create_vendors(cast: Cast, phones: _PhoneBook) -> None:
    for category, names in THIRD_PARTIES.items():
        cast.vendors[category] = []
        for index, name in enumerate(names):
            domain = _slug(name) + ".example"
            organisation = Organisation.objects.create(
                name=name, kind=OrganisationKind.THIRD_PARTY, category=category, domain=domain
            )
            contact = Contact.objects.create(
                name=f"{name} ({_desk(category)})", organisation=organisation, is_third_party=True
            )
            phone = phones.next()
            kinds = [(IdentityKind.PHONE, phone), (IdentityKind.EMAIL, f"bookings@{domain}")]
            if index % 2 == 0:
                kinds.append((IdentityKind.WHATSAPP, phone))
            _add_identities(contact.pk, kinds)
            seed_contact = SeedContact(contact.pk, name, Tier.STANDARD, _kinds(kinds))
            cast.vendors[category].append((seed_contact, name))


def _desk(category: str) -> str:
    return {"restaurant": "reservations", "hotel": "front desk", "clinic": "reception"}.get(
        category, "bookings"
    )


def _create_customers(
    cast: Cast, faker: Faker, rng: random.Random, phones: _PhoneBook, *, count: int
) -> None:
    practices = [
        Organisation.objects.create(
            name=name,
            tier=Tier.PREMIUM if index % 3 == 0 else Tier.STANDARD,
            domain=_slug(name) + ".example",
        )
        for index, name in enumerate(PRACTICE_NAMES)
    ]
    households = [
        Organisation.objects.create(name=name, tier=Tier.VIP, domain=_slug(name) + ".example")
        for name in VIP_HOUSEHOLDS
    ]
    people = []
    for index in range(count):
        is_vip = index % 5 < 2
        organisation = rng.choice(households if is_vip else practices)
        first, last = faker.first_name(), faker.last_name()
        title = "" if is_vip or rng.random() < 0.4 else "Dr "
        people.append((is_vip, organisation, first, last, title))
    contacts = Contact.objects.bulk_create(
        [Contact(name=f"{t}{f} {ln}", organisation=o) for _, o, f, ln, t in people],
        batch_size=2000,
    )
    identities = []
    for contact, (is_vip, organisation, first, last, _) in zip(contacts, people, strict=True):
        email = f"{_ascii(first)}.{_ascii(last)}.{contact.pk}@{organisation.domain}".lower()
        kinds = [(IdentityKind.EMAIL, email)]
        if is_vip or rng.random() < 0.8:
            phone = phones.next()
            kinds.append((IdentityKind.PHONE, phone))
            if rng.random() < (0.85 if is_vip else 0.1):
                kinds.append((IdentityKind.WHATSAPP, phone))
        identities.extend(_identity_rows(contact.pk, kinds))
        seed_contact = SeedContact(contact.pk, first, organisation.tier, _kinds(kinds))
        (cast.vips if is_vip else cast.clinicians).append(seed_contact)
    Identity.objects.bulk_create(identities, batch_size=2000)


def _add_identities(contact_id: int, kinds: Sequence[tuple[str, str]]) -> None:
    Identity.objects.bulk_create(_identity_rows(contact_id, kinds))


def _identity_rows(contact_id: int, kinds: Sequence[tuple[str, str]]) -> list[Identity]:
    return [
        Identity(contact_id=contact_id, kind=kind, value=value, is_primary=index == 0)
        for index, (kind, value) in enumerate(kinds)
    ]


def _kinds(kinds: Sequence[tuple[str, str]]) -> frozenset[str]:
    return frozenset(kind for kind, _ in kinds)


class _PhoneBook:
    """E.164 numbers from ranges reserved for fiction: UK 07700 900xxx, then US 555-01xx."""

    def __init__(self) -> None:
        self.issued = 0

    def next(self) -> str:
        n = self.issued
        self.issued += 1
        if n < 1000:
            return f"+447700900{n:03d}"
        n -= 1000
        return f"+1{201 + n // 100}55501{n % 100:02d}"


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z-]", "", plain) or "x"


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", _ascii_keep_spaces(name).lower()).strip("-")


def _ascii_keep_spaces(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
