"""The parser of each channel, so a quarantined item can be re-processed.

Ingest must not import channels (the layers in pyproject.toml), so each channel
registers its parser here from its AppConfig.ready().
"""

from __future__ import annotations

from collections.abc import Callable

from kiwidesk.ingest.contract import InboundMessage

# Takes the raw bytes as received and the source they arrived at.
Parser = Callable[[bytes, str], InboundMessage]

_PARSERS: dict[str, Parser] = {}


class NoParserError(LookupError):
    """No channel registered a parser for this channel name."""


def register(channel: str, parse: Parser) -> None:
    """Make `parse` the parser of `channel`; a later registration replaces an earlier one."""
    _PARSERS[channel] = parse


def has_parser(channel: str) -> bool:
    return channel in _PARSERS


def parser_for(channel: str) -> Parser:
    """Return the registered parser of `channel`, or raise NoParserError."""
    try:
        return _PARSERS[channel]
    except KeyError:
        raise NoParserError(f"no parser is registered for the {channel!r} channel") from None
