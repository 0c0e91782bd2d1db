"""Parse: bytes of a feed document -> ``ParsedFeed``, whatever its format and encoding."""

from aggregator.parse.core import ParseError, parse_feed

__all__ = ["ParseError", "parse_feed"]
