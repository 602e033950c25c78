"""Why a seed cannot run; importable before Django is set up, so the CLI can report it."""

from __future__ import annotations


class SeedError(ValueError):
    """The requested seed cannot be built (for example too few messages for the cases)."""


class DatabaseNotEmptyError(SeedError):
    """The database already holds cases; the demo data would mix with real ones."""
