"""Editing feeds.yaml in place: new sources appended, everything else kept as written.

``aggregator add`` and ``aggregator import-opml`` change a file an editor maintains by
hand, so its comments, key order, quoting and indentation must survive.  PyYAML (the
loader's library) drops comments; ruamel.yaml round-trips them, so edits go through it.
Every edit is checked with the real loader (:func:`aggregator.config.load_config`)
before the file is replaced, atomically: a bad edit leaves feeds.yaml as it was.
"""

from __future__ import annotations

import dataclasses
import io
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aggregator.config import Config, ConfigError, language_code, load_config
from aggregator.files import write_if_changed
from aggregator.text.slugs import source_id_for
from aggregator.text.urls import canonical_url, looks_like_web_address, without_feed_scheme

__all__ = [
    "NewSource",
    "OpmlError",
    "OpmlImport",
    "address_meant",
    "append_sources",
    "known_urls",
    "source_id_for",
    "sources_from_opml",
]

_KEY_LINE = re.compile(r"^([A-Za-z_][\w-]*):\s*(#.*)?$")


@dataclass(frozen=True)
class NewSource:
    """A source to append, as feeds.yaml will show it (empty fields are left out)."""

    id: str
    name: str
    url: str
    language: str | None = None
    tags: tuple[str, ...] = ()

    def as_mapping(self) -> dict[str, Any]:
        mapping: dict[str, Any] = {"id": self.id, "name": self.name, "url": self.url}
        if self.language:
            mapping["language"] = self.language
        if self.tags:
            mapping["tags"] = list(self.tags)
        return mapping


def address_meant(value: str, base_dir: Path) -> str:
    """The address a user means by ``value`` (``aggregator add``'s argument): a
    browser's feed link (feed://host/rss) as its address, a web address without its
    scheme ("tengrinews.kz", as an address bar shows it) with https://, unless a file of
    that name is there (``base_dir``: the config's directory, where paths are read)."""
    value = without_feed_scheme(value.strip())
    if looks_like_web_address(value) and not (base_dir / value).exists():
        return "https://" + value
    return value


def known_urls(config: Config) -> dict[str, str]:
    """Canonical URL -> source id, for every configured source (enabled or not)."""
    return {canonical_url(s.url): s.id for s in config.sources}


def append_sources(path: str | os.PathLike, sources: Sequence[NewSource]) -> Config:
    """Append ``sources`` to the ``sources:`` list of the config at ``path``.

    Comments, order, quoting and indentation of everything already there are kept.
    The result is validated with the loader before it replaces the file; a
    ConfigError (with the loader's message) leaves the file untouched.
    Returns the new configuration.
    """
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.error import YAMLError

    target = Path(path)
    try:
        text = target.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{target}: cannot read: {exc.strerror or exc}") from None
    yaml = _round_trip_yaml(text)
    try:
        document = yaml.load(text)
    except YAMLError as exc:
        raise ConfigError(f"{target}: YAML error: {exc}") from None
    if document is None:
        document = CommentedMap()
    if not isinstance(document, Mapping):
        raise ConfigError(f"{target}: the top level is not a mapping of keys; cannot add sources")
    listed = document.get("sources")
    if listed is None:
        listed = document["sources"] = CommentedSeq()
    elif not isinstance(listed, list):
        raise ConfigError(f"{target}: 'sources' is not a list; cannot add sources to it")
    if not listed:
        listed.fa.set_block_style()  # "sources: []" becomes a list like feeds.yaml's
    for source in sources:
        entry = CommentedMap()
        for key, value in source.as_mapping().items():
            if isinstance(value, list):
                value = CommentedSeq(value)
                value.fa.set_flow_style()
            entry[key] = value
        listed.append(entry)
    out = io.StringIO()
    yaml.dump(document, out)
    return _replace_checked(target, out.getvalue())


def _round_trip_yaml(text: str):
    from ruamel.yaml import YAML
    from ruamel.yaml.util import load_yaml_guess_indent

    _, sequence_indent, dash_offset = load_yaml_guess_indent(text)
    mapping = _mapping_indent(text)
    if dash_offset is None or not sequence_indent or sequence_indent < dash_offset + 2:
        # No block list to copy (e.g. "sources: []"): the style of feeds.yaml.
        dash_offset, sequence_indent = mapping, mapping + 2
    yaml = YAML()  # round-trip mode
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap an editor's long lines
    yaml.indent(mapping=mapping, sequence=sequence_indent, offset=dash_offset)
    return yaml


def _mapping_indent(text: str) -> int:
    """The indentation of the first nested key under a top-level key (2 if none)."""
    lines = text.splitlines()
    for i, line in enumerate(lines[:-1]):
        if _KEY_LINE.match(line):
            for following in lines[i + 1 :]:
                stripped = following.lstrip(" ")
                if not stripped or stripped.startswith("#"):
                    continue
                width = len(following) - len(stripped)
                if width and not stripped.startswith("- "):
                    return width
                break
    return 2


def _replace_checked(target: Path, text: str) -> Config:
    """Validate ``text`` as a config beside ``target`` (relative paths agree), then
    put it in place atomically."""
    fd, temp = tempfile.mkstemp(prefix=".aggregator-tmp-", suffix=".yaml", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        try:
            config = load_config(temp)
        except ConfigError as exc:
            message = str(exc).replace(temp, str(target))
            raise ConfigError(
                f"{message}\n(the change was not saved; {target} is unchanged)"
            ) from None
    finally:
        Path(temp).unlink(missing_ok=True)
    write_if_changed(target, text.encode("utf-8"))
    return dataclasses.replace(config, path=str(target.resolve()))


class OpmlError(Exception):
    """The file is not an OPML document we can read; the message says where and why."""


@dataclass(frozen=True)
class OpmlImport:
    """What an OPML file adds, and what it lists that is not added (one line each)."""

    sources: tuple[NewSource, ...]
    duplicates: tuple[str, ...]  # "line 12: URL: already configured as source 'x'"
    broken: tuple[str, ...]  # "line 40: outline 'Name' has xmlUrl 'ftp://…': not http(s)"


_FEED_TYPES = {"rss": "RSS", "atom": "Atom"}  # an outline's type that says it is a feed


def sources_from_opml(data: bytes, config: Config, filename: str = "OPML") -> OpmlImport:
    """The sources an OPML subscription list adds to ``config``.

    Every ``<outline>`` with an ``xmlUrl`` is a feed, wherever it is nested; the
    texts of the outlines it is nested in (folders, in most readers) and its OPML 2.0
    ``category`` paths become its tags.  Feeds already configured, or listed twice,
    are skipped by canonical URL; outlines whose xmlUrl is not an http(s) URL are
    reported and skipped.  The rest of the file is never lost silently.
    """
    from lxml import etree

    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        line = f":{exc.lineno}" if getattr(exc, "lineno", None) else ""
        raise OpmlError(f"{filename}{line}: not well-formed XML: {exc.msg}") from None
    if etree.QName(root).localname.lower() != "opml":
        raise OpmlError(
            f"{filename}: the root element is <{root.tag}>, not <opml>; export the subscriptions as OPML"
        )
    body = next((c for c in root if isinstance(c.tag, str) and c.tag.lower() == "body"), None)
    if body is None:
        raise OpmlError(f"{filename}: no <body> in the OPML document, so no subscriptions")

    seen = known_urls(config)
    where_seen: dict[str, str] = {
        url: f"already configured as source '{sid}'" for url, sid in seen.items()
    }
    taken = {s.id for s in config.sources}
    added: list[NewSource] = []
    duplicates: list[str] = []
    broken: list[str] = []

    def visit(element, folders: tuple[str, ...]) -> None:
        for outline in element:
            if not isinstance(outline.tag, str) or outline.tag.lower() != "outline":
                continue
            attrs = {k.lower(): (v or "").strip() for k, v in outline.attrib.items()}
            label = " ".join((attrs.get("text") or attrs.get("title") or "").split())
            xml_url = without_feed_scheme(attrs.get("xmlurl", ""))
            here = f"line {outline.sourceline}"
            kind = _FEED_TYPES.get(attrs.get("type", "").lower())
            if not xml_url and not len(outline) and kind:
                broken.append(
                    f"{here}: outline {label!r} is an {kind} feed without an xmlUrl; skipped"
                )
                continue
            if not xml_url:
                if label or len(outline):
                    visit(outline, (*folders, label) if label else folders)
                continue
            split = urlsplit(xml_url)
            if split.scheme.lower() not in ("http", "https") or not split.hostname:
                broken.append(
                    f"{here}: outline {label!r} has xmlUrl {xml_url!r}: not an http(s) URL; skipped"
                )
                continue
            canonical = canonical_url(xml_url)
            if canonical in where_seen:
                duplicates.append(f"{here}: {xml_url}: {where_seen[canonical]}")
                continue
            name = label or split.hostname.removeprefix("www.")
            source_id = source_id_for(name, xml_url, taken)
            taken.add(source_id)
            where_seen[canonical] = f"listed before, added as source '{source_id}'"
            tags = [f for f in folders if f]
            for path in attrs.get("category", "").split(","):
                tags += [part.strip() for part in path.split("/") if part.strip()]
            language = language_code(attrs.get("language") or None)
            added.append(
                NewSource(
                    id=source_id,
                    name=name,
                    url=xml_url,
                    language=language,
                    tags=tuple(dict.fromkeys(tags)),
                )
            )

    visit(body, ())
    return OpmlImport(tuple(added), tuple(duplicates), tuple(broken))
