"""The second factor: one authenticator app (a django-otp TOTP device) per agent.

A device counts once the agent has typed a code from it (confirmed). Wrong codes are
throttled by django-otp: each failure doubles the wait before the next try.
"""

from __future__ import annotations

import math
from base64 import b32encode
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from kiwidesk.accounts.models import Agent, ApiToken, Scope

DEVICE_NAME = "Authenticator app"


@dataclass(frozen=True)
class CodeCheck:
    is_accepted: bool
    wait_seconds: int = 0  # > 0 when too many wrong codes were typed just now

    @property
    def message(self) -> str:
        if self.is_accepted:
            return ""
        if self.wait_seconds:
            return f"Too many wrong codes: wait {self.wait_seconds} s and try again."
        return "That code is not right: type the code your app shows now."


def confirmed_device(agent: Agent) -> TOTPDevice | None:
    device: TOTPDevice | None = (
        TOTPDevice.objects.devices_for_user(agent, confirmed=True).order_by("pk").first()
    )
    return device


def enrolment_device(agent: Agent) -> TOTPDevice:
    """The unconfirmed device the agent is setting up, created on first visit."""
    device, _ = TOTPDevice.objects.get_or_create(
        user=agent, confirmed=False, defaults={"name": DEVICE_NAME}
    )
    return device


def check_code(device: TOTPDevice, code: str) -> CodeCheck:
    allowed, details = device.verify_is_allowed()
    if not allowed:
        return CodeCheck(is_accepted=False, wait_seconds=_seconds_until(details))
    if device.verify_token(code):
        return CodeCheck(is_accepted=True)
    return CodeCheck(is_accepted=False)


def _seconds_until(details: dict[str, object] | None) -> int:
    locked_until = (details or {}).get("locked_until")
    if not isinstance(locked_until, datetime):
        return 1
    return max(1, math.ceil((locked_until - timezone.now()).total_seconds()))


def confirm_device(device: TOTPDevice, code: str) -> CodeCheck:
    """Count the device once a code from it is right; any older device goes."""
    result = check_code(device, code)
    if result.is_accepted:
        with transaction.atomic():
            TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
            device.confirmed = True
            device.save(update_fields=["confirmed"])
    return result


def remove_second_factor(agent: Agent) -> None:
    """Remove the app; clinical tokens stood on it, so they are revoked with it."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=agent).delete()
        ApiToken.objects.filter(
            agent=agent, scopes__contains=Scope.CLINICAL, revoked_at__isnull=True
        ).update(revoked_at=timezone.now())


def secret_text(device: TOTPDevice) -> str:
    """The key as authenticator apps take it when typed: base32, in groups of four."""
    key = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))
