"""House commentary: what the editors wrote, what it comments on, and how it is published.

load.py reads it (Markdown files, posts of the house feed) into ``Commentary``; quotes.py
finds what it quotes and whom it names; index.py and match.py find the stored item it
comments on; entries.py puts both together for publish; authoring.py writes new files.
"""

from aggregator.house.authoring import find_item, new_file, slugify
from aggregator.house.cache import match_changed
from aggregator.house.entries import (
    FILE_KEY_PREFIX,
    HouseCommentary,
    HouseEntry,
    SourceRef,
    source_ref,
)
from aggregator.house.load import (
    Commentary,
    CommentaryError,
    Problem,
    commentary_dir,
    house_source_ids,
    load_all,
    parse_markdown,
)
from aggregator.house.match import Match, MatchIndex, match_all, match_commentary

__all__ = [
    "FILE_KEY_PREFIX",
    "Commentary",
    "CommentaryError",
    "HouseCommentary",
    "HouseEntry",
    "Match",
    "MatchIndex",
    "Problem",
    "SourceRef",
    "commentary_dir",
    "find_item",
    "house_source_ids",
    "load_all",
    "match_all",
    "match_changed",
    "match_commentary",
    "new_file",
    "parse_markdown",
    "slugify",
    "source_ref",
]
