"""Hooks through which higher apps (the channels) erase and export what they keep.

Privacy sits below the channels in the layers, so it cannot import their models: each
channel app registers its hooks in `AppConfig.ready()` (see `channels/*/erasure.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ERASED = "[erased]"


@dataclass(frozen=True)
class ErasureScope:
    """What one erasure covers.

    `contact_id` is the data subject (None when retention anonymises cases whose
    contact stays); `message_ids` and `thread_ids` are those whose content goes;
    `values` are the subject's own identifying values (addresses, numbers, name), for
    finding copies in raw payloads.
    """

    contact_id: int | None
    case_ids: frozenset[int]
    thread_ids: frozenset[int]
    message_ids: frozenset[int]
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Hooks:
    erase: Callable[[ErasureScope], int]
    export: Callable[[ErasureScope], dict[str, list[dict[str, Any]]]] | None = None


@dataclass
class _Registry:
    hooks: dict[str, Hooks] = field(default_factory=dict)


_registry = _Registry()


def register(name: str, *, erase: Callable[[ErasureScope], int], export: Any = None) -> None:
    """Register an app's hooks under `name`; registering again replaces them."""
    _registry.hooks[name] = Hooks(erase=erase, export=export)


def registered() -> dict[str, Hooks]:
    return dict(_registry.hooks)
