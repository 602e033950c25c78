from __future__ import annotations

import factory

from kiwidesk.accounts.models import Agent, Clearance, Role, Team

PASSWORD = "correct-horse-battery-staple"


class TeamFactory(factory.django.DjangoModelFactory[Team]):
    class Meta:
        model = Team
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Care team {n}")
    slug = factory.Sequence(lambda n: f"care-team-{n}")


class AgentFactory(factory.django.DjangoModelFactory[Agent]):
    class Meta:
        model = Agent
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"agent{n}@kiwidesk.test")
    name = factory.Faker("name")
    role = Role.AGENT
    clearance = Clearance.NORMAL
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def teams(self, create: bool, extracted: list[Team] | None, **kwargs: object) -> None:
        if create and extracted:
            self.teams.set(extracted)
