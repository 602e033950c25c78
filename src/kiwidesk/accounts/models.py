"""Agents (the people who work cases), their teams and their API tokens."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone


class Role(models.TextChoices):
    AGENT = "agent", "Agent"
    LEAD = "lead", "Support lead"
    QA = "qa", "QA reviewer"
    ENGINEER = "engineer", "Support engineer"
    ADMIN = "admin", "Administrator"


class Clearance(models.TextChoices):
    """The most sensitive case content an agent may open (see privacy/access.py)."""

    NORMAL = "normal", "Normal"
    CONFIDENTIAL = "confidential", "Confidential"
    CLINICAL = "clinical", "Clinical"


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    email = models.EmailField(blank=True)
    merges_new_cases = models.BooleanField(
        default=False,
        help_text=(
            "When a customer with an open case of this team writes in anew, merge the new "
            "case into the open one at once instead of suggesting it."
        ),
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AgentManager(BaseUserManager["Agent"]):
    def create_user(self, email: str, password: str | None = None, **fields: Any) -> Agent:
        agent = self.model(email=self.normalize_email(email).lower(), **fields)
        agent.set_password(password)
        agent.save(using=self._db)
        return agent

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> Agent:
        fields.update(is_staff=True, is_superuser=True, role=Role.ADMIN)
        fields.setdefault("clearance", Clearance.CLINICAL)
        return self.create_user(email, password, **fields)


class Agent(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(unique=True)
    name = models.CharField(max_length=150)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.AGENT)
    clearance = models.CharField(max_length=12, choices=Clearance.choices, default=Clearance.NORMAL)
    teams = models.ManyToManyField(Team, related_name="agents", blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="May use the admin site.")
    date_joined = models.DateTimeField(default=timezone.now)

    objects = AgentManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name or self.email

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.name.split(" ")[0] if self.name else self.email


class Scope(models.TextChoices):
    """What an API token may do: GET/HEAD need read, anything else write.

    Clinical makes the token count as a second factor, so it can open clinical content.
    """

    READ = "read", "Read"
    WRITE = "write", "Write"
    CLINICAL = "clinical", "Clinical (counts as a second factor)"


class ApiToken(models.Model):
    """A bearer token for the API. Only the SHA-256 of the secret is stored."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, default="API token")
    prefix = models.CharField(max_length=12, help_text="Shown to tell tokens apart.")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    scopes = models.CharField(
        max_length=50, default="read write", help_text="Space-separated: read, write, clinical."
    )
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="Refused from this time on; empty: never expires."
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.agent})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.has_expired

    @property
    def has_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()

    def has_scope(self, scope: str) -> bool:
        return scope in self.scope_list
