"""The hand-written labelled set (real/): load it into a real store, publish it, score it.

Every post goes the way publish takes it: Markdown posts are files in
``house.commentary_dir``, CMS posts are items of the house's feed (a source with
``house: true``) in a SQLite store that also holds the 150 agency items (and, with
``--background``, generated noise items over the same weeks).  ``HouseCommentary.load``
reads and matches them all against the store, and ``publish.commentary.render_html`` makes
each entry's HTML, exactly as ``aggregator publish`` does.  Then each case is checked on
what was published: which source (confident only), and the HTML's attribution lines.
"""

from __future__ import annotations

import contextlib
import html
import re
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import lxml.html
import yaml
from _common import background

from aggregator.config import load_config
from aggregator.house import HouseCommentary, MatchIndex, load_all, match_commentary
from aggregator.ingest.update import record_fetch
from aggregator.models import Item
from aggregator.publish.commentary import render_html
from aggregator.store import open_storage
from aggregator.text.html import plain_text

REAL = Path(__file__).resolve().parent / "real"
HOUSE_ID = "eurasia24"
WEEKS = datetime(2025, 2, 27, tzinfo=UTC), datetime(2025, 4, 27, tzinfo=UTC)
TYPES = (
    "retelling",
    "other_item_first",
    "heading_first_or_missing",
    "cross_language",
    "background_link",
    "no_match_topic",
    "inner_quotes",
    "agency_phrase",
    "quote",
    "link",
)


@dataclass
class Outcome:
    post: dict
    status: str  # confident / review / none / error / missing
    published: list[str]  # confident source keys
    right: bool
    html: str = ""
    bad_quotes: list[str] = field(default_factory=list)  # «» text not in the attributed item
    bad_agencies: list[str] = field(default_factory=list)  # a name not the source's configured
    retold_as_quote: bool = False  # a retelling in «», or a blockquote
    altered_quote: bool = False  # a verified quote published otherwise than written
    altered: list[str] = field(default_factory=list)  # those quotes, as published
    why: str = ""


def _feeds_yaml(sources: list[dict]) -> str:
    document = {
        "site": {
            "title": "Евразия24",
            "link": "https://eurasia24.media/",
            "house": "Евразия24",
            "repost_notice": "Перепечатка и копирование материалов допускаются только с "
            "указанием ссылки на eurasia24.media",
        },
        "house": {"commentary_dir": "commentary"},
        "sources": [
            {
                "id": s["id"],
                "name": s["name"],
                "url": f"https://{s['id']}.example/rss",
                "language": s["language"],
            }
            for s in sources
        ]
        + [
            {
                "id": HOUSE_ID,
                "name": "Евразия24",
                "url": "https://eurasia24.media/rss",
                "house": True,
            }
        ],
    }
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)


@dataclass
class RealStore:
    """The set stored: its site's config, the open store, the posts and items (by id)."""

    site: Path
    config: object
    storage: object
    posts: list[dict]
    items: dict[str, dict]


@contextlib.contextmanager
def real_store(background_count: int) -> Iterator[RealStore]:
    """The labelled set in a real SQLite store in a temporary site, as publish meets it:
    agency items and CMS posts stored, Markdown posts in ``commentary_dir``."""
    items_doc = yaml.safe_load((REAL / "items.yaml").read_text(encoding="utf-8"))
    posts = yaml.safe_load((REAL / "posts.yaml").read_text(encoding="utf-8"))["posts"]
    items = {i["id"]: i for i in items_doc["items"]}
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp)
        (site / "feeds.yaml").write_text(_feeds_yaml(items_doc["sources"]), encoding="utf-8")
        (site / "commentary").mkdir()
        config = load_config(site / "feeds.yaml")
        storage = open_storage(site / "aggregator.sqlite")
        try:
            storage.sync_sources(config.sources)
            fetched = WEEKS[1]
            per_source: dict[str, list[Item]] = defaultdict(list)
            for entry in items_doc["items"]:
                when = datetime.fromisoformat(entry["date"]).astimezone(UTC)
                per_source[entry["source"]].append(
                    Item(
                        id=entry["link"],
                        title=entry["title"],
                        link=entry["link"],
                        content=entry["html"],
                        published=when,
                        updated=when,
                        language=entry["language"],
                    )
                )
            for post in posts:
                if post["format"] == "cms_html":
                    when = datetime.fromisoformat(post["date"]).astimezone(UTC)
                    per_source[HOUSE_ID].append(
                        Item(
                            id=post["link"],
                            title=post["title"],
                            link=post["link"],
                            content=post["html"],
                            published=when,
                            updated=when,
                            categories=tuple(post.get("tags") or ()),
                            language="ru",
                        )
                    )
                else:
                    (site / "commentary" / f"{post['id']}.md").write_text(
                        post["text"], encoding="utf-8"
                    )
            for source_id, its in per_source.items():
                record_fetch(storage, storage.get_source_state(source_id), its, fetched_at=fetched)
            if background_count:
                _store_background(storage, config, background_count)
            yield RealStore(site, config, storage, posts, items)
        finally:
            storage.close()


def run(
    background_count: int, split: str | None, *, withhold: bool = False
) -> tuple[list[Outcome], dict]:
    info: dict = {}
    with real_store(background_count) as real:
        config, storage, posts, items = real.config, real.storage, real.posts, real.items
        by_link = {i["link"]: i for i in items.values()}
        names = {s.id: s.name for s in config.sources}
        info["items"] = storage.items_count()
        started = time.perf_counter()
        house = HouseCommentary.load(config, storage)
        info["load_seconds"] = time.perf_counter() - started
        entries = {}
        for entry in house.entries.values():
            c = entry.commentary
            post_id = Path(c.where).stem if c.item_key is None else entry.stored.item.link
            entries[post_id] = entry
        problems = {p.where: str(p) for p in house.problems}
        outcomes = []
        for post in posts:
            if split and post["split"] != split:
                continue
            key = post["id"] if post["format"] == "markdown" else post["link"]
            entry = entries.get(key)
            if entry is None:
                why = next((m for w, m in problems.items() if post["id"] in w), "not loaded")
                outcomes.append(Outcome(post, "missing", [], False, why=why))
                continue
            content = render_html(entry.commentary, entry.match, entry.sources, config)
            outcomes.append(_score(post, entry, content, storage, items, by_link, names))
        if withhold:
            info["withheld"] = _withheld(posts, split, items, config, storage)
    return outcomes, info


@dataclass
class MatchingSetUp:
    """The labelled set's store as the matcher meets it: the index of the agency items,
    the house's commentary by post, the labels' store keys and which labels are one
    event (other tellings and reprints, both ways)."""

    storage: object
    index: MatchIndex
    names: dict[str, str]  # source id -> configured name
    by_post: dict[str, HouseCommentary]  # markdown: the post's id; cms_html: its link
    key_of: dict[str, str]  # item label -> store key
    label_of: dict[str, str]  # store key -> item label
    same: dict[str, set[str]]  # item label -> labels of the same event

    @classmethod
    def of(cls, config, storage, items: dict) -> MatchingSetUp:
        house = {s.id for s in config.sources if s.house}
        index = MatchIndex.build(
            s
            for s in storage.iter_items(newest_first=False)
            if not house.intersection(s.source_ids)
        )
        loaded = load_all(config, storage.iter_items(source_ids=sorted(house)))
        by_post = {
            Path(c.where).stem if c.item_key is None else c.link: c for c in loaded.commentary
        }
        key_of = {}
        for label, entry in items.items():
            stored = storage.item_by_link(entry["link"])
            if stored is not None:
                key_of[label] = stored.key
        same = defaultdict(set)
        for label, entry in items.items():
            for relation in ("same_event_as", "reprint_of"):
                other = entry.get(relation)
                if other:
                    same[label].add(other)
                    same[other].add(label)
        return cls(
            storage,
            index,
            {s.id: s.name for s in config.sources},
            by_post,
            key_of,
            {key: label for label, key in key_of.items()},
            same,
        )

    def commentary_of(self, post: dict) -> HouseCommentary | None:
        return self.by_post.get(post["id"] if post["format"] == "markdown" else post["link"])

    @contextlib.contextmanager
    def withheld(self, post: dict) -> Iterator[None]:
        """The post's event out of the index meanwhile: its source, the acceptable
        alternatives and every other telling or reprint of them."""
        event = set(post["expected"] or ()) | set(post.get("acceptable_alternatives") or ())
        todo = list(event)
        while todo:
            for other in self.same[todo.pop()] - event:
                event.add(other)
                todo.append(other)
        taken = [
            self.storage.get_item(self.key_of[label]) for label in event if label in self.key_of
        ]
        for stored in taken:
            self.index.remove(stored.key)
        try:
            yield
        finally:
            for stored in taken:
                self.index.add(stored)


def _withheld(posts, split, items, config, storage) -> list[tuple[str, str, str]]:
    """Each post with a source, matched again with its event taken out of the store (the
    source, its reprints and other outlets' tellings): the store then holds only what a
    post about an event never fetched meets -- the same topic's other events, follow-ups,
    background.  Whatever is published confidently is wrong.  [(post, item, relation)]"""
    setup = MatchingSetUp.of(config, storage, items)
    label_of = setup.label_of
    wrong = []
    for post in posts:
        if (split and post["split"] != split) or not post["expected"]:
            continue
        commentary = setup.commentary_of(post)
        if commentary is None or commentary.sources:
            continue
        with setup.withheld(post):
            match = match_commentary(commentary, setup.index, source_names=setup.names)
        if match.confident:
            label = label_of.get(match.keys[0], match.keys[0])
            source = items.get(label, {})
            relation = next(
                (
                    f"{r} {source[r]}"
                    for r in ("follow_up_of", "same_topic_as", "same_event_as")
                    if source.get(r)
                ),
                "",
            )
            if not relation:
                relation = next(
                    (
                        f"{label} is {r} of it"
                        for lbl in post["expected"]
                        for r in ("follow_up_of", "same_topic_as")
                        if any(items[x].get(r) == lbl for x in [label] if x in items)
                    ),
                    "",
                )
            wrong.append((post["id"], label, f"{match.method} {match.confidence} {relation}"))
    return wrong


def _store_background(storage, config, count: int) -> None:
    """Generated noise items over the set's weeks, as extra sources of the store."""
    made = list(background(count, start=WEEKS[0], end=WEEKS[1]))
    # Their sources are not configured: store them under configured source ids in turn,
    # which is what the matcher sees of them anyway (items of other feeds).
    ids = [s.id for s in config.sources if not s.house]
    per: dict[str, list[Item]] = defaultdict(list)
    for n, stored in enumerate(made):
        per[ids[n % len(ids)]].append(stored.item)
    for source_id, its in per.items():
        state = storage.get_source_state(source_id)
        record_fetch(storage, state, its, fetched_at=WEEKS[1] + timedelta(hours=1))


def _score(post, entry, content, storage, items, by_link, names) -> Outcome:
    match = entry.match
    status = match.status
    expected = set(post["expected"] or ())
    acceptable = expected | set(post.get("acceptable_alternatives") or ())
    published = []
    if status == "confident":
        for key in match.keys:
            stored = storage.get_item(key)
            label = by_link.get(stored.item.link) if stored is not None else None
            published.append(label["id"] if label else key)
    if expected:
        right = bool(published) and published[0] in acceptable and set(published) <= acceptable
    else:
        right = not published
    outcome = Outcome(post, status, published, right, html=content)
    _check_html(outcome, content, items, by_link, names)
    if not right:
        ranked = list(match.keys) or [k for k, _ in match.candidates]
        shown = []
        for key in ranked[:3]:
            stored = storage.get_item(key)
            label = by_link.get(stored.item.link) if stored is not None else None
            shown.append(label["id"] if label else key)
        outcome.why = f"{status} {match.method} {match.confidence} {shown} — {match.note}"
    return outcome


_VERBS = ("сообщает", "хабарлайды", "reports")
_CREDITS = ("По материалам", "Based on reporting")


def _outer_quotes(text: str) -> list[str]:
    found, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "«":
            if depth == 0:
                start = i + 1
            depth += 1
        elif ch == "»" and depth:
            depth -= 1
            if depth == 0:
                found.append(text[start:i])
    return found


def _norm(text: str) -> str:
    return " ".join(text.replace("\xa0", " ").split())


def _in_item(quote: str, item: dict) -> bool:
    body = _norm(plain_text(item["title"] + "\n" + item["html"]))
    pieces = [p.strip(" .,") for p in re.split(r"…|\.\.\.", _norm(quote))]
    return all(p in body for p in pieces if p)


def _check_html(outcome: Outcome, content: str, items, by_link, names) -> None:
    """Every attribution line of the published HTML, against the item it links to."""
    post = outcome.post
    root = lxml.html.fragment_fromstring(content, create_parent="div")
    if root.find(".//blockquote") is not None and not post.get("quote"):
        outcome.retold_as_quote = True
    for paragraph in root.iter("p"):
        # Our attribution lines: "<a>Agency</a> сообщает: «…»", "По материалам <a>Agency</a>."
        # (links inside the house's own text are the house's, not an attribution).
        credit = _norm(paragraph.text_content()).startswith(_CREDITS)
        anchors = [
            a
            for a in paragraph.iter("a")
            if a.get("href") in by_link and (credit or (a.tail or "").lstrip().startswith(_VERBS))
        ]
        if not anchors:
            continue
        text = _norm(paragraph.text_content())
        for anchor in anchors:
            item = by_link[anchor.get("href")]
            name = _norm(anchor.text_content())
            if name != names[item["source"]]:
                outcome.bad_agencies.append(f"{name!r} for {item['id']}")
        quotes = _outer_quotes(text)
        if not quotes:
            continue
        item = by_link[anchors[0].get("href")]
        if not post.get("quote"):
            outcome.retold_as_quote = True
        for quote in quotes:
            if not _in_item(quote, item):
                outcome.bad_quotes.append(quote[:80])
            elif post.get("quote") and _as_written(quote) != _as_written(post["quote"]):
                outcome.altered_quote = True
                outcome.altered.append(quote[:80])


def _as_written(quote: str) -> str:
    """A quote to compare with the label: the label leaves out the editor's cut marks at
    either end ("«…вагоны … тенге.»" is labelled "вагоны … тенге."), and its final period."""
    return re.sub(r"^(?:…|\.{3})\s*|\s*(?:…|\.{3})$", "", _norm(quote).rstrip(".")).rstrip(".")


def report(outcomes: list[Outcome], info: dict, split: str | None, verbose: bool) -> None:
    print(
        f"real set, split {split or 'all'}: {len(outcomes)} posts; store {info['items']} items; "
        f"load + match of every commentary {info['load_seconds']:.2f} s"
    )

    def kinds(o: Outcome) -> set[str]:
        return {o.post["category"], *(o.post.get("also") or ())}

    print(
        f"\n  {'case type':<26}{'posts':>6}{'right':>7}{'conf':>6}{'wrong+':>8}"
        f"{'«»bad':>7}{'agency':>8}{'retold«»':>10}{'altered':>9}"
    )
    for kind in TYPES:
        group = [o for o in outcomes if kind in kinds(o)]
        if not group:
            continue
        wrong = sum(1 for o in group if o.published and not o.right)
        print(
            f"  {kind:<26}{len(group):>6}{sum(o.right for o in group):>7}"
            f"{sum(1 for o in group if o.published):>6}{wrong:>8}"
            f"{sum(len(o.bad_quotes) for o in group):>7}{sum(len(o.bad_agencies) for o in group):>8}"
            f"{sum(o.retold_as_quote for o in group):>10}{sum(o.altered_quote for o in group):>9}"
        )
    confident = [o for o in outcomes if o.published]
    sourced = [o for o in outcomes if o.post["expected"]]
    retold = [o for o in outcomes if "retelling" in kinds(o)]
    cross = [o for o in outcomes if "cross_language" in kinds(o)]
    nomatch = [o for o in outcomes if not o.post["expected"]]

    def ratio(a: int, b: int) -> str:
        return f"{a / b:.3f}" if b else "-"

    print("\ntargets (issue 10)")
    print(
        f"  precision of confident matches   {ratio(sum(o.right for o in confident), len(confident))}"
        f"  ({sum(o.right for o in confident)}/{len(confident)}; >= 0.99)"
    )
    print(
        f"  recall of posts with a source    {ratio(sum(o.right for o in sourced), len(sourced))}"
        f"  ({sum(o.right for o in sourced)}/{len(sourced)}; >= 0.96)"
    )
    print(
        f"  retellings recall                {ratio(sum(o.right for o in retold), len(retold))}"
        f"  ({sum(o.right for o in retold)}/{len(retold)}; >= 0.85), wrong "
        f"{sum(1 for o in retold if o.published and not o.right)} (= 0)"
    )
    print(
        f"  cross-language recall            {ratio(sum(o.right for o in cross), len(cross))}"
        f"  ({sum(o.right for o in cross)}/{len(cross)}; >= 0.6), wrong "
        f"{sum(1 for o in cross if o.published and not o.right)} (= 0)"
    )
    print(
        f"  no-match posts without a confident match  "
        f"{sum(1 for o in nomatch if not o.published)}/{len(nomatch)} (all)"
    )
    print(
        f"  «» text not in the attributed item  {sum(len(o.bad_quotes) for o in outcomes)} (= 0);"
        f" wrong agency names {sum(len(o.bad_agencies) for o in outcomes)} (= 0);"
        f" retellings in «»/blockquote {sum(o.retold_as_quote for o in outcomes)};"
        f" quotes altered {sum(o.altered_quote for o in outcomes)}"
    )
    print(f"  statuses: {dict(Counter(o.status for o in outcomes))}")
    if "withheld" in info:
        withheld = info["withheld"]
        print(
            f"  withheld sources (the post's event taken out of the store): {len(withheld)} "
            "confident on another item (= 0)"
        )
        for post_id, label, why in withheld if verbose else ():
            print(f"      {post_id}: {label} ({why})")
    if verbose:
        print("\nnot right / HTML problems:")
        for o in outcomes:
            if o.right and not (o.bad_quotes or o.bad_agencies or o.retold_as_quote or o.altered):
                continue
            print(
                f"  {o.post['id']} [{o.post['category']}{'+' + ','.join(o.post.get('also') or ()) if o.post.get('also') else ''}]"
                f" expected {o.post['expected']}: {o.why}"
            )
            for quote in o.bad_quotes:
                print(f"      «» not in item: {html.unescape(quote)}")
            for agency in o.bad_agencies:
                print(f"      agency: {agency}")
            if o.retold_as_quote:
                print("      retelling published as a quote")
            for quote in o.altered:
                print(f"      quote published otherwise than written: {html.unescape(quote)}")
