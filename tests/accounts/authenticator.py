"""An authenticator app for tests: enrol an agent and read the code it would show."""

from __future__ import annotations

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from kiwidesk.accounts.models import Agent, Scope
from kiwidesk.accounts.services import issue_token


def enrol(agent: Agent) -> TOTPDevice:
    """A confirmed TOTP device, as if the agent had scanned the QR code and confirmed."""
    device: TOTPDevice = TOTPDevice.objects.create(
        user=agent, name="Authenticator app", confirmed=True
    )
    return device


def code_for(device: TOTPDevice) -> str:
    """The code the app shows now (time-machine moves "now" for a second code)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def clinical_token(agent: Agent) -> str:
    """A read, write and clinical token (the agent must be cleared; enrols them if needed)."""
    if not TOTPDevice.objects.filter(user=agent, confirmed=True).exists():
        enrol(agent)
    return issue_token(agent, scopes=[Scope.READ, Scope.WRITE, Scope.CLINICAL]).secret


def verify_session(client: Client, agent: Agent) -> TOTPDevice:
    """Leave the client's logged-in session verified, as a right code would (any number of times).

    Writes django-otp's session key directly: a real code can be used only once per
    30 seconds, which tests that log in repeatedly would trip over.
    """
    device = TOTPDevice.objects.filter(user=agent, confirmed=True).first() or enrol(agent)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device
