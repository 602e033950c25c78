"""Approved WhatsApp templates: the only messages allowed once the 24-hour window closes."""

from __future__ import annotations

import re

from django.db import models

# WhatsApp numbers a template's parameters {{1}}, {{2}}… in its body.
PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")


class MessageTemplate(models.Model):
    """A template Meta approved for the account, as agents may send it.

    Meta approves templates in its own console; an admin copies each one here (its
    name, language and body) so the composer can offer it and show what the customer
    will read.
    """

    name = models.CharField(max_length=512, help_text="The template's name at Meta.")
    language = models.CharField(max_length=15, default="en_US")
    body = models.TextField(help_text="The approved body, with {{1}}, {{2}}… for the parameters.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name", "language"]
        constraints = [
            models.UniqueConstraint(fields=["name", "language"], name="template_name_language")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"

    @property
    def parameter_count(self) -> int:
        return max((int(number) for number in PLACEHOLDER.findall(self.body)), default=0)


class TemplateMessage(models.Model):
    """The template, and its parameters, that an outbound message is sent as."""

    message = models.OneToOneField(
        "cases.Message", on_delete=models.CASCADE, related_name="whatsapp_template"
    )
    template = models.ForeignKey(MessageTemplate, on_delete=models.PROTECT, related_name="+")
    parameters = models.JSONField(default=list)

    def __str__(self) -> str:
        return f"{self.template} for message {self.message_id}"
