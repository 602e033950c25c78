"""People and organisations Kiwidesk talks to, and the channel identities they write from."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Tier(models.TextChoices):
    STANDARD = "standard", "Standard"
    PREMIUM = "premium", "Premium"
    VIP = "vip", "VIP"


class OrganisationKind(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    THIRD_PARTY = "third_party", "Third party"


class Organisation(models.Model):
    name = models.CharField(max_length=200)
    kind = models.CharField(
        max_length=12, choices=OrganisationKind.choices, default=OrganisationKind.CUSTOMER
    )
    tier = models.CharField(max_length=10, choices=Tier.choices, default=Tier.STANDARD)
    category = models.CharField(
        max_length=50, blank=True, help_text="For third parties: restaurant, hotel, clinic…"
    )
    domain = models.CharField(max_length=200, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    name = models.CharField(max_length=200, blank=True)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.SET_NULL, null=True, blank=True, related_name="contacts"
    )
    is_third_party = models.BooleanField(default=False)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name or f"Contact {self.pk}"

    @property
    def tier(self) -> str:
        return self.organisation.tier if self.organisation else Tier.STANDARD


class IdentityKind(models.TextChoices):
    EMAIL = "email", "Email"
    PHONE = "phone", "Phone"
    WHATSAPP = "whatsapp", "WhatsApp"


class Identity(models.Model):
    """One address a contact writes from. Values are normalised (lower-case email, E.164)."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(max_length=10, choices=IdentityKind.choices)
    value = models.CharField(max_length=254)
    is_primary = models.BooleanField(default=False)

    class Meta:
        verbose_name_plural = "identities"
        ordering = ["kind", "value"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "value"], name="identity_kind_value_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.value}"
