"""What turns a stored webhook body (a Delivery) into messages, per adapter.

Ingest must not import channels (the layers in pyproject.toml), so each channel
registers its handler here from its AppConfig.ready(). A handler takes the raw
body and the source it arrived at, ingests or quarantines what it holds, and
raises only for a failure worth retrying (the database, a bug).
"""

from __future__ import annotations

from collections.abc import Callable

Handler = Callable[[bytes, str], None]

_HANDLERS: dict[str, Handler] = {}


class NoHandlerError(LookupError):
    """No channel registered a handler under this adapter name."""


def register(adapter: str, handle: Handler) -> None:
    """Make `handle` the handler of `adapter`; a later registration replaces an earlier one."""
    _HANDLERS[adapter] = handle


def handler_for(adapter: str) -> Handler:
    """Return the registered handler of `adapter`, or raise NoHandlerError."""
    try:
        return _HANDLERS[adapter]
    except KeyError:
        raise NoHandlerError(f"no handler is registered for the {adapter!r} adapter") from None
