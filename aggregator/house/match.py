"""Match: which stored item (or items) a house commentary comments on.

Tried in order, the first that answers wins:

1. ``source`` -- the editor's explicit ``source:`` (an item's URL, its id in the source
   feed, or its store key).  It always wins; if it names nothing stored, the answer is an
   error for the editor, never a guess.
2. ``link`` -- a link in the commentary whose canonical form (``urls.canonical_url``:
   scheme, ``www.``, trailing slash and ``utm_*``-style parameters ignored) is a stored
   item's link.  Of several links, one the post tells as what came before its news (a
   clause of time leading to it, "через день после того, как [подписали контракт](…)",
   or its own words, "[о находке которых мы писали в начале месяца](…)", or the story's
   earlier stage: "с тех пор, как [...](…)", "[ещё в марте подписали …](…)", a clause
   opening with "когда", a sentence going on "— тогда …") is background, as one in a
   sentence marked "ранее" is: it is never the source while another link tells the
   news, even where that other one is not stored.
3. ``quote`` -- the quoted text, found by **word-bigram containment**: the share of the
   quote's consecutive word pairs that occur in an item.  Words are compared by stem
   (``text.stem_tokens``, the same for every document whatever its language), so a
   quote that is shortened ("…" splits it into pieces, none of whose pairs span the cut),
   cut at either end, lightly edited, differently punctuated or taken from a later
   paragraph still finds its item, while another outlet's report of the same event, in
   its own words, shares only names and figures.  Candidates come from an inverted index
   of stems: the quote's rarest stems point at a handful of items, which are checked.
   Several items holding the quote (a re-reported agency text) are told apart by the
   agency named in the attribution, then by which was published first.  Each quote of a
   commentary is matched on its own, so a commentary may quote two items.
4. ``similarity`` -- BM25-weighted coverage of the commentary's stems (stop words
   removed; an item's title counts extra) by items published from a week before to a
   day after the commentary (editors comment on the week's news; an item more than two
   days older than the post is only offered for review: a post that late on a story more
   often reports its next stage, told in the item's names and figures).  Only a clear winner (an absolute score and a margin over
   the runner-up, or rare words, one a figure or a name, that the item shares and its
   rivals do not, or every figure of the post's news in it) is confident -- unless the
   post reports its event otherwise: figures
   of the same kind of quantity that the item gives with other values ("800 гектаров"
   where the item's fire burnt "1 200 гектаров") count against it ("against:" in the
   evidence).  A quote found in no stored item does not end matching:
   it may be the house's own words in quote marks, so similarity runs; but where the post
   presents it as the agency's quote, what similarity finds is only ever for review (its
   source was most likely never fetched, and the nearest item would be another outlet's
   report of the same event).

Languages.  Every word is stemmed by ``text.stem_tokens`` with the language left open,
so by its own letters: Latin by the English Snowball stemmer, Cyrillic with Kazakh letters
(ә ғ қ ң ө ұ ү һ і) by text.py's light Kazakh suffix stripper, other Cyrillic by the
Russian Snowball stemmer.  A quote and its item therefore get the same stems whatever
language a short quote is detected as -- there is no Kazakh Snowball stemmer, and
agreement matters more here than linguistic accuracy.  Stop words of all three languages
are left out of similarity.  A retelling in Russian of a Kazakh or English item shares
almost no stems with it, so an item in another language than the commentary is also scored
by language-independent evidence: word skeletons (``skeleton``: names, loanwords and
numbers in Cyrillic or Latin meet) and numbers the commentary spells out in Russian words.
A round figure of the commentary ("около шестисот двенадцати тысяч") is evidence for the
item with the exact figure it rounds.
Such a match is confident only where its names, numbers and dates agree with that one item
and no item in the commentary's own language comes close; otherwise it is shown for review
(see benchmarks/matching/README.md).

Confidence is one scale for every method: at or above ``CONFIDENT`` (0.8) the match is
published; from ``REVIEW`` up it is shown for an editor's decision; below it there is
no match.  The calibration comes from ``benchmarks/matching/`` (see its README).
``similarity_features`` gives the evidence of a similarity decision as numbers
(``match_commentary(observe=)``).  Where no rule is sure, the evidence weighed together
decides: a score calibrated on the hand-written set's rounds 1-7 and frozen since
(``calibrated_score``, fitted by benchmarks/matching/fit.py) makes the best item
confident when it is high enough and the guards allow it (``score_vetoed``,
``score_may_decide``: a rival about as similar, figures told otherwise, an older item,
nothing of the post's event, no fact that tells it from a rival, a figure of the news not
in the item, news told as following another event); the evidence says the score decided
and why.  (From the tenth session to the fourteenth it published nothing; on the ten
rounds written after it was frozen it then gained right sources and, with these guards,
no wrong one on dev: benchmarks/matching/README.md, "round 19".)

Matching is deterministic, so its results are kept between runs (cache.py) with the
version of these rules (``rules_version``): a result stands until its commentary, an item
it weighed or the rules change.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

from aggregator.config import Config
from aggregator.house.index import (
    INDEX_MODULES,
    MIN_QUOTE_PAIRS,
    MatchIndex,
    Quantity,
    code_version,
    quantities,
    reference_url,
    skeleton,
    spelled_in,
    words,
)
from aggregator.house.load import (
    LINK_MARK,
    Commentary,
    background_sentences,
    house_source_ids,
    linked_blocks,
    may_name,
    without_background,
)
from aggregator.models import StoredItem
from aggregator.store import Storage
from aggregator.text.html import plain_text
from aggregator.text.words import stem_tokens

__all__ = [
    "CONFIDENT",
    "REVIEW",
    "Match",
    "MatchIndex",
    "match_all",
    "evidence_limits",
    "match_commentary",
    "rules_version",
]

CONFIDENT = 0.8  # at or above: published as the source
REVIEW = 0.45  # at or above (and below CONFIDENT): shown for review

FULL_QUOTE_PAIRS = 8  # from this many pairs on, a quote is long enough to trust fully
QUOTE_SURE = 0.5  # containment at which a full-length quote is confidently found
QUOTE_PARTLY = 0.3  # containment from which a quote is partly found (shown for review)
QUOTE_TIE = 0.05  # items within this containment of the best are the same text

# Similarity searches the items published from index.WINDOW_BEFORE (a week: editors
# comment on the week's news) before a post to WINDOW_AFTER after it; only those from
# SURE_WITHIN before it on are weighed as its source (the rules are sure of none older
# than RULES_WITHIN, the score of none older than RETOLD_WITHIN).  The older ones are
# rivals and candidates for review.  (On the 13 dev rounds no source was more than 1.9
# days older than its post; the wrong best items only their age held were 3.1 days and
# more.)
SURE_WITHIN = timedelta(days=2.5)
# ... and "every figure of its news in it", which no margin backs, from this on.
RETOLD_WITHIN = timedelta(days=2)
# No similarity rule is sure of an item older than this (as the score is not:
# ``score_not_sure``).  A follow-up two days on is told in the stored item's names and
# figures: on the 23 dev rounds every right sure item was at most 46.7 hours older than
# its post, five follow-ups' items 48-49 hours (chosen leave-one-round-out: README,
# round 22b).
RULES_WITHIN = RETOLD_WITHIN

SIMILAR_SURE = 0.22  # coverage of the commentary's weight by the best item ...
SIMILAR_MARGIN = 0.50  # ... and the runner-up at most this share of the best


@dataclass(frozen=True)
class Match:
    """What a commentary comments on, how that was found and how sure it is."""

    keys: tuple[str, ...] = ()  # store keys of the matched items, most likely first
    method: str | None = None  # "source", "link", "quote", "similarity" or None
    confidence: float = 0.0  # 0..1, on the scale of CONFIDENT / REVIEW
    candidates: tuple[tuple[str, float], ...] = ()  # (key, confidence) for review
    # Per key of ``keys``: the number of the commentary's quote found verbatim (within the
    # editing tolerance) in that item, or -1: only such a quote may be published as the
    # agency's words.
    quotes: tuple[int, ...] = ()
    error: str | None = None  # the editor's reference names nothing stored
    note: str = ""  # why, in words, for `aggregator comment list`
    related: tuple[str, ...] = ()  # other stored items it links (background, not sources)
    evidence: tuple[str, ...] = ()  # what an editor sees: quote found where, shared names
    # Other stored items the decision weighed (rivals, items holding the same quote): if one
    # of them changes or goes, the commentary is matched again (cache.py).
    considered: tuple[str, ...] = ()

    @property
    def status(self) -> str:
        """ "confident", "review", "none" or "error"."""
        if self.error:
            return "error"
        if self.keys and self.confidence >= CONFIDENT:
            return "confident"
        if self.candidates and self.confidence >= REVIEW:
            return "review"
        return "none"

    @property
    def confident(self) -> bool:
        return self.status == "confident"

    def quote_of(self, key: str) -> int:
        """The number of the commentary's quote verified in item ``key``, or -1."""
        if key in self.keys:
            position = self.keys.index(key)
            if position < len(self.quotes):
                return self.quotes[position]
        return -1


NO_MATCH = Match(note="no stored item matches")


def rules_version() -> str:
    """The version of the matching rules: a hash of this module's and the index's source.
    Results kept from other rules (cache.py) are not used: everything is matched again."""
    return code_version((*INDEX_MODULES, __name__))


# --- matching one commentary ---------------------------------------------------------


def match_commentary(
    commentary: Commentary,
    index: MatchIndex,
    *,
    source_names: Mapping[str, str] | None = None,
    resolve: Mapping[str, str] | None = None,
    observe: Callable[[str, dict[str, float]], None] | None = None,
) -> Match:
    """Find what ``commentary`` comments on; see the module docstring for the order.

    ``source_names`` (source id -> name) lets the agency named in an attribution break
    ties between items holding the same text.  ``resolve`` maps references (URLs, ids)
    already resolved by the caller to store keys; others are looked up in ``index``.
    ``observe``, where similarity decided (and the post's quote was not missing), is given
    the best item's key and the evidence as numbers (``similarity_features``, and
    ``confident``: the decision): benchmarks/matching/fit.py fits a score on them.
    """
    resolve = resolve or {}
    names = source_names or {}
    if commentary.sources:
        keys, missing = [], []
        for reference in commentary.sources:
            key = resolve.get(reference) or index.find(reference)
            (keys if key else missing).append(key or reference)
        if missing:
            return Match(
                method="source",
                error=f"source: {missing[0]!r} is not a stored item; give the URL, id or key "
                "of an item `aggregator comment list` can see, or wait until its feed is fetched",
                note="the editor's source is not stored",
            )
        keys = list(dict.fromkeys(keys))
        return _verified(
            Match(tuple(keys), "source", 1.0, note="the editor's source:"), commentary, index
        )

    told = (*commentary.background_links, *_told_before(commentary))
    background = {resolve.get(u) or index.find(u) for u in told}
    found = {link: resolve.get(link) or index.find(link) for link in commentary.links}
    linked = [k for k in dict.fromkeys(found.values()) if k]
    sources = [k for k in linked if k not in background]
    if sources:
        best = _best_linked(sources, commentary, index)
        related = tuple(k for k in linked if k != best)
        note = "a link in the commentary"
        if related:
            note += " (the one it quotes or retells; the other links are related)"
        confidence, against = 0.98, _unstored_beside(commentary, found, told, index, best)
        if against:
            confidence = CONFIDENT - 0.01
        return _verified(
            Match(
                (best,),
                "link",
                confidence,
                candidates=((best, confidence),) if against else (),
                note=note,
                related=related,
                evidence=against,
            ),
            commentary,
            index,
        )
    related = tuple(linked)

    quote_missing = False
    if commentary.quotes:
        found, quote_failed = _match_quotes(commentary, index, names)
        if found is not None and (found.confident or not quote_failed):
            return replace(found, related=related)
        # A quote found in no item may be the house's own words in quote marks, or a
        # quote of an item never fetched: similarity decides, and where the post presents
        # it as the agency's quote, never confidently.
        quote_missing = quote_failed and commentary.separate_quote

    found = _match_similar(
        commentary,
        index,
        exclude=related,
        quote_missing=quote_missing,
        observe=observe,
        source_names=names,
    )
    return _verified(replace(found, related=related), commentary, index)


def _verified(match: Match, commentary: Commentary, index: MatchIndex) -> Match:
    """``match`` with, per key, which of the commentary's quotes is really in that item."""
    if not match.keys:
        return match
    numbers = []
    evidence = list(match.evidence)
    for key in match.keys:
        doc = index.doc_of(key)
        number = -1
        if doc is not None:
            for position, quote in enumerate(commentary.quotes):
                if index.quote_found(quote, doc) >= QUOTE_SURE:
                    number = position
                    evidence.append(f"quote {position + 1} is in {key}")
                    break
        numbers.append(number)
    return replace(match, quotes=tuple(numbers), evidence=tuple(evidence))


# Words by which a post tells a link as what came before its news: a clause of time
# leading to it ("через день после того как", "накануне", "в начале месяца"), or that it
# was reported ("мы писали", "о которых сообщалось"), or the scene its news is set against
# ("пока цены падали, область расширяет посевы"); Russian, Kazakh, English.
_TOLD_BEFORE = re.compile(
    r"(?<!\w)(после того как|(через|спустя) [^,]{0,20}после|накануне|ранее|прежде(?! всего)|"
    r"^пока(?! (что|не|ещё|еще)\b)|в то время как|^while|"
    r"в (начале|конце) (этого |прошлого )?(месяца|недели|года)|на прошлой неделе|"
    r"в прошлом (году|месяце)|(мы )?(уже )?(писали|сообщали|рассказывали)|сообщалось|"
    r"бұған дейін|жазған едік|хабарлаған едік|хабарланған|кейін|өткен аптада|ай басында|"
    r"earlier|previously|after|last week|we reported|was reported|"
    # the story's earlier stage: "с тех пор как", "ещё в марте", "месяц назад", "тогда"
    r"с тех пор как|ещ[её] в (\w+ )?(январе|феврале|марте|апреле|мае|июне|июле|августе|"
    r"сентябре|октябре|ноябре|декабре|понедельник|вторник|среду|четверг|пятницу|субботу|"
    r"воскресенье|прошл\w+ \w+)|(дн(я|ей)|недел[юи]|месяц(а|ев)?|год(а)?|лет|сутки) назад|"
    r"до этого|в прошлый раз|тогда|в тот раз|сол кезде|(күн|апта|ай|жыл) бұрын|"
    r"back in|(days?|weeks?|months?|years?) ago|at the time)(?!\w)",
    re.IGNORECASE,
)
# A link whose clause opens with "когда" is the time the news is set against
# ("Восемнадцатого, когда [начали монтаж](…), вице-министр обещал …"); one whose sentence
# goes on "— тогда …" is what the post looks back on.
_WHEN_CLAUSE = re.compile(r"^\s*(тогда\s+|ещ[её]\s+)?(когда|when)(?!\w)", re.IGNORECASE)
_THEN_NEXT = re.compile(r"^\s*(и\s+|а\s+)?(тогда|then)(?!\w)", re.IGNORECASE)
# A link whose sentence goes on ", а (уже) в четверг …" to the news is its earlier stage
# ("Оспу [нашли во вторник](…), а уже в четверг [объяснили, когда …](…)").
_AND_LATER = re.compile(
    r"^\s*а\s+(уже\s+|потом\s+|затем\s+)?((в|во|к)\s+(понедельник|вторник|среду|четверг|"
    r"пятницу|субботу|воскресенье|выходные|вечеру)|на следующий день|назавтра|"
    r"(через|спустя)\s+(день|два дня|сутки|неделю|\w+ дн(я|ей)))(?!\w)",
    re.IGNORECASE,
)
# "Рассказали, когда [начнут завозить уголь](…)": a "когда" after a verb of telling asks
# what the news answers; it is no time the news is set against.
_ASKED = re.compile(
    r"(рассказа\w*|объясни\w*|сообщи\w*|уточни\w*|назва\w*|ответи\w*|поясни\w*|"
    r"спроси\w*|узна\w*|решат|реши\w*|знают|известно|неясно|непонятно|объяви\w*|"
    r"told|explained|said|announced|asked)\s*,\s*$",
    re.IGNORECASE,
)
# Where the clause of a link begins and ends ("того, как" is one clause: its comma is not).
_CLAUSE_END = re.compile(r"[.!?…:;—–(),]")
_CLAUSE_WORDS = 6  # the words of its clause read on either side of a link


def _told_before(commentary: Commentary) -> tuple[str, ...]:
    """The links ``commentary`` tells as what came before its news, by the words of their
    clause (``_TOLD_BEFORE``), where it has another link that tells the news: a post whose
    only links are told so ("Нацбанк сохранил ставку через день после того, как
    [регулятор объяснил решение](…)") still has its source among them."""
    if len(commentary.links) < 2:
        return ()
    told: list[str] = []
    for fragment in (commentary.intro_html, commentary.comment_html):
        for href, text in linked_blocks(fragment):
            text = re.sub(r"(?i)(того|тех пор),\s+как", r"\1 как", text)
            before, own, after = text.split(LINK_MARK)[:3]
            clause = _CLAUSE_END.split(before)[-1]
            if not clause.strip() and before.rstrip().endswith(","):
                # A link set off by commas is its clause's aside: "В прошлый раз,
                # [неделей раньше], рост был 1,6%" is told by the words before it.
                clause = _CLAUSE_END.split(before.rstrip()[:-1])[-1]
            head = " ".join(clause.split()[-_CLAUSE_WORDS:])
            following = _CLAUSE_END.split(after)
            tail = " ".join(following[0].split()[:_CLAUSE_WORDS])
            asked = _ASKED.search(before[: len(before) - len(clause)])
            if (
                _TOLD_BEFORE.search(f"{head} {own} {tail}")
                or (_WHEN_CLAUSE.search(clause or own) and not asked)
                or (len(following) > 1 and _THEN_NEXT.search(following[1]))
                or (len(following) > 1 and _AND_LATER.search(following[1]))
            ):
                told.append(href)
    if all(link in told or link in commentary.background_links for link in commentary.links):
        return ()
    return tuple(dict.fromkeys(told))


def _unstored_beside(
    commentary: Commentary,
    found: Mapping[str, str | None],
    told: Sequence[str],
    index: MatchIndex,
    key: str,
) -> tuple[str, ...]:
    """Evidence against publishing the stored link ``key`` where another link of the post,
    not told as background, is to no stored item and ``key``'s item is older than
    ``RULES_WITHIN`` before the post: the unfetched page may be the news, and the stored
    one the statistic or earlier stage behind it, linked without a word that says so
    (dev: of 53 posts with two links, the background item is more than two days older
    than the post in 41, every source but one within a day).  An editor decides."""
    unstored = [link for link, stored in found.items() if not stored and link not in told]
    doc = index.doc_of(key)
    old = _too_old(commentary, index, doc) if unstored and doc is not None else None
    if not old:
        return ()
    return (
        f"against: another link ({unstored[0]}) is to no stored item and may be the news; "
        f"this one was {old}",
    )


def _best_linked(keys: list[str], commentary: Commentary, index: MatchIndex) -> str:
    """Of several linked items, the one whose text the commentary quotes or retells: the
    one it quotes, then one of the latest (an item more than ``TELLINGS_APART`` older than
    another linked item is what came before the news: editors link the story's earlier
    stage, the statistic behind it, as background, told or not), then the one holding
    more of its news's figures (in any language: an item in the post's own language
    shares its words whatever it tells; a background item its own figures), then the one
    whose words it shares most."""
    if len(keys) == 1:
        return keys[0]
    text = "\n".join((commentary.title, *commentary.quotes, commentary.intro_text))
    if len(text.split()) < 20:
        text = commentary.text
    figures = _news_figures(commentary, _DURATIONS)
    docs = [d for d in map(index.doc_of, keys) if d is not None]
    latest = max((index.time_of(d) for d in docs), default=0.0) - TELLINGS_APART.total_seconds()

    def score(key: str) -> tuple[float, bool, int, float]:
        doc = index.doc_of(key)
        if doc is None:
            return (0.0, False, 0, 0.0)
        quoted = max((index.quote_found(q, doc) for q in commentary.quotes), default=0.0)
        values = _item_values(index, doc)
        held = sum(_has_value(index, doc, values, q) for q in figures)
        return (quoted, index.time_of(doc) >= latest, held, index.coverage(text, doc))

    return max(keys, key=lambda k: (score(k), -keys.index(k)))


def _match_quotes(
    commentary: Commentary, index: MatchIndex, names: Mapping[str, str]
) -> tuple[Match | None, bool]:
    """(a match, or None to go on; whether a usable quote matched nothing)."""
    keys: list[str] = []
    confidences: list[float] = []
    quoted: list[int] = []
    review: list[tuple[str, float]] = []
    weighed: list[str] = []
    usable = 0
    for number, quote in enumerate(commentary.quotes):
        pairs, scored = index.quote_scores(quote)
        if pairs < MIN_QUOTE_PAIRS or _a_reference(quote, pairs, commentary):
            continue
        usable += 1
        if not scored:
            continue
        best = scored[0][0]
        confidence = _quote_confidence(best, pairs)
        tied = [doc for score, doc in scored if score >= best - QUOTE_TIE]
        if len(tied) > 1 and pairs < FULL_QUOTE_PAIRS:
            confidence = min(confidence, CONFIDENT - 0.01)  # a short phrase several items share
        doc = _tie_break(tied, index, commentary, names)
        weighed.extend(index.keys[d] for d in tied)
        key = index.keys[doc]
        if confidence >= CONFIDENT and _quote_figures_elsewhere(quote, index, doc):
            # Its words are the item's, its figures are not: another text on the topic
            # (the same sentence with another period's figures, another outlet's count).
            confidence = CONFIDENT - 0.01
        if confidence >= CONFIDENT and _quote_words_elsewhere(quote, best, index, doc):
            confidence = CONFIDENT - 0.01
        if confidence >= CONFIDENT:
            if key not in keys:
                keys.append(key)
                confidences.append(confidence)
                quoted.append(number)
        elif confidence >= REVIEW:
            review.append((key, round(confidence, 3)))
    if keys:
        return Match(
            tuple(keys),
            "quote",
            round(min(confidences), 3),
            candidates=tuple((k, round(c, 3)) for k, c in zip(keys, confidences, strict=True)),
            quotes=tuple(quoted),
            note="the quoted text" + (" (two items)" if len(keys) > 1 else ""),
            evidence=tuple(f"quote {n + 1} is in {k}" for n, k in zip(quoted, keys, strict=True)),
            considered=tuple(dict.fromkeys(weighed)),
        ), False
    if review:
        best = max(review, key=lambda r: r[1])
        return Match(
            (),
            "quote",
            best[1],
            candidates=tuple(sorted(review, key=lambda r: -r[1])),
            note="the quote is only partly found",
            considered=tuple(dict.fromkeys(weighed)),
        ), False
    return None, usable > 0


def _quote_figures_elsewhere(quote: str, index: MatchIndex, doc: int) -> bool:
    """Whether ``quote`` writes a figure in digits that item ``doc`` does not write.  A
    quote is the agency's words, figures and all: "около 98 тысяч" is not the item's
    "около 100 тысяч", nor "312,4 млрд" its "187,4 млрд", however alike the words around
    them.  Compared as ``words`` writes figures ("2 000" and "2000", "5,1" and "5.1",
    "3 млн" and "3 000 000" alike; a figure cut at "…" keeps its digits); one digit alone
    says too little, and a figure spelled out is compared as words."""
    figures = [t for t in dict.fromkeys(words(quote)) if t[:1].isdigit() and len(t) > 1]
    return bool(figures) and not all(index.has_words(doc, figures))


# Stored words of a quote found in part that its item lacks, from which it is not its text
# (one may be the house's own word for the agency's; dev stops the same at 1 and 2).
QUOTE_WORDS_ELSEWHERE = 2


def _quote_words_elsewhere(quote: str, containment: float, index: MatchIndex, doc: int) -> bool:
    """Whether ``quote``, found in item ``doc`` only in part, has words the item lacks
    altogether: the agency's sentence told of another subject in the same phrasing
    ("продлило на шесть месяцев запрет на вывоз угля" in an item on a cement ban;
    "одобрили в первом чтении поправки в закон «Об обращении с животными»" in one on a
    teachers' law).  Only words some stored item has count: a word misspelt in the
    post's copy ("сотрудничестая") is in no item, its own included."""
    if containment >= 1.0:
        return False
    tokens = [t for t in dict.fromkeys(words(quote)) if t.isalpha() and len(t) >= 4]
    lacking = [t for t, have in zip(tokens, index.has_words(doc, tokens), strict=True) if not have]
    stored = [t for t in lacking if index.frequency("s" + stem_tokens([t], "")[0])]
    return len(stored) >= QUOTE_WORDS_ELSEWHERE


def _a_reference(quote: str, pairs: int, commentary: Commentary) -> bool:
    """Whether ``quote`` is a phrase the house's comment cites (a programme's name, a
    slogan: «тариф в обмен на инвестиции»), not the news's quote: short, inside the
    comment of a post that tells its news apart from it.  The post's news decides."""
    return (
        pairs < FULL_QUOTE_PAIRS
        and not commentary.separate_quote
        and bool(commentary.intro_html)
        and quote in commentary.comment_text
    )


def _quote_confidence(containment: float, pairs: int) -> float:
    length = min(1.0, 0.6 + 0.4 * (pairs - MIN_QUOTE_PAIRS) / (FULL_QUOTE_PAIRS - MIN_QUOTE_PAIRS))
    raw = containment * length
    if raw >= QUOTE_SURE:
        return CONFIDENT + (1 - CONFIDENT) * (raw - QUOTE_SURE) / (1 - QUOTE_SURE)
    if raw >= QUOTE_PARTLY:
        return REVIEW + (CONFIDENT - REVIEW) * (raw - QUOTE_PARTLY) / (QUOTE_SURE - QUOTE_PARTLY)
    return REVIEW * raw / QUOTE_PARTLY


def _tie_break(
    docs: Sequence[int], index: MatchIndex, commentary: Commentary, names: Mapping[str, str]
) -> int:
    """Among items with the same text: the one from the agency named, else the first published.

    The attribution phrase is compared whole ("Tengrinews со ссылкой на Kazinform"): the
    source whose configured name comes first in it is the one named.
    """
    if len(docs) > 1 and commentary.agency:
        phrase = _name_key(commentary.agency)
        where = {}
        for d in docs:
            name = _name_key(names.get(index.source_of(d), ""))
            if name and name in phrase:
                where[d] = phrase.index(name)
        if where:
            first = min(where.values())
            docs = [d for d in docs if where.get(d) == first]
    return min(docs, key=index.order_of)


def _name_key(name: str) -> str:
    return "".join(ch for ch in name.casefold() if ch.isalnum())


# --- retellings: passages, evidence, languages -----------------------------------------

PASSAGE_WORDS = 25  # paragraphs shorter than this are joined with the next
PASSAGE_WEIGHT = 0.85  # a passage's coverage counts this much against the whole post's
EVIDENCE_SURE = 3  # distinctive names/numbers shared with the best item and not the runner-up
EVIDENCE_COVERAGE = 0.13  # ... with at least this coverage
CLEAR_SURE = 0.10  # a retelling this similar to one item ...
CLEAR_MARGIN = 0.30  # ... and the runner-up at most this share of it
CLEAR_WINNER = 0.15  # ... with only one name or figure only it has: this similar
CLEAR_ALONE = 0.2  # ... with none (and at most RETOLD_WITHIN older than the post)
SETTLED_SURE = 0.15  # a clear winner this similar whose figures are all in it
OWN_SURE = 3  # rare words of the post only the best item has (none of its 3 rivals) ...
OWN_MARGIN = 0.5  # ... with the runner-up at most this share of the best
FOREIGN_FACTS = 2  # an item in another language with this many of the post's facts, twice
# the best's, is its source rather than a translation of the best
NATIVE_TIE = 0.9  # an own-language item this close to a better translation comes first
NATIVE_RIVALS = 3  # own-language items a cross-language match's facts are checked against
TOLD_APART = 1  # rivals the post tells otherwise set aside: figures of the post in the best
_NAME = re.compile(r"(?<![\w-])(?:[A-ZА-ЯЁӘҒҚҢӨҰҮҺІ][\w-]{2,}|\d[\d.,]*\d|\d{2,})")


def _passages(commentary: Commentary) -> list[str]:
    """The post in passages of at least PASSAGE_WORDS words: a news paragraph is found on
    its own even when the comment around it is about something else."""
    paragraphs = [p for p in (commentary.intro_text, *_paragraphs(commentary.comment_html)) if p]
    passages: list[str] = []
    current: list[str] = []
    for paragraph in paragraphs:
        current.append(paragraph)
        if sum(len(p.split()) for p in current) >= PASSAGE_WORDS:
            passages.append(" ".join(current))
            current = []
    if current:
        if passages and sum(len(p.split()) for p in current) < PASSAGE_WORDS:
            passages[-1] += " " + " ".join(current)
        else:
            passages.append(" ".join(current))
    return passages[:3] if len(passages) > 1 else []


def _paragraphs(fragment: str) -> list[str]:
    return [p for p in (plain_text(b) for b in re.split(r"</p>|<br\s*/?>|\n\n", fragment)) if p]


def _match_similar(
    commentary: Commentary,
    index: MatchIndex,
    *,
    exclude: Sequence[str] = (),
    quote_missing: bool = False,
    observe: Callable[[str, dict[str, float]], None] | None = None,
    source_names: Mapping[str, str] | None = None,
) -> Match:
    around, language = commentary.published, commentary.language
    scores: dict[int, float] = {}
    for score, doc in index.similar(commentary.text, around, language=language, exclude=exclude):
        scores[doc] = score
    whole = dict(scores)
    ranked = sorted(scores.values(), reverse=True)
    clear = ranked and _similar_confidence(ranked[0], ranked[1] if len(ranked) > 1 else 0.0)
    # Passages only where the whole post leaves it open (each is one more search).
    for passage in _passages(commentary) if not clear or clear < CONFIDENT else ():
        text = f"{commentary.title}\n{passage}"
        for score, doc in index.similar(text, around, language=language, exclude=exclude):
            scores[doc] = max(scores.get(doc, 0.0), score * PASSAGE_WEIGHT)
    if not scores:
        return NO_MATCH
    ranked = sorted(
        ((s, d) for d, s in scores.items()), key=lambda sd: (-sd[0], index.order_of(sd[1]))
    )
    # The post's own-language telling comes first when a translation is about as close:
    # which of the two leads by a hair is store-wide word weights, not evidence, and a
    # Russian post told in Russian is sourced from the Russian item.
    native = next(((s, d) for s, d in ranked if index.same_language(d, language)), None)
    if (
        native is not None
        and native is not ranked[0]
        and (
            native[0] >= ranked[0][0] * NATIVE_TIE
            # (a translation with none of the post's figures is no telling of its event)
            or (
                _figures_missing(commentary, index, ranked[0][1])
                and not _figures_missing(commentary, index, native[1])
            )
        )
    ):
        ranked.remove(native)
        ranked.insert(0, native)
    # Two outlets' tellings of one event: the post follows the one it names, or the one
    # with its facts the other lacks; the other is then no rival (the same event).
    followed, tellings = _tellings(commentary, index, ranked, source_names or {})
    if followed is not None and followed != ranked[0][1]:
        first = next(sd for sd in ranked if sd[1] == followed)
        ranked.remove(first)
        ranked.insert(0, first)
    best, doc = ranked[0]
    same = index.same_language(doc, language)
    # An item in the post's own language is measured against its own-language rivals:
    # the same event told in Kazakh or English is a translation, not a competitor.
    rivals = [(s, d) for s, d in ranked[1:] if not same or index.same_language(d, language)]
    if followed is not None:
        rivals = [(s, d) for s, d in rivals if d not in tellings]
    # A reprint of the best item (or the item it reprints) is the same text, not a rival:
    # either is the source.
    copies = {d for s, d in rivals[:3] if s >= best * 0.5 and index.same_text(doc, d)}
    rivals = [(s, d) for s, d in rivals if d not in copies]
    sure, confidence, second, evidence, found = _sure_rule(commentary, index, ranked, rivals)
    if followed is not None:
        told = ", ".join(index.keys[d] for d in sorted(tellings, key=index.order_of))
        evidence.append(f"the event is told by {told} too: the post follows {index.keys[doc]}")
    weighed = (tuple(d for _, d in rivals[:3]), found)  # (the rivals, the evidence against them)
    # (an own-language item this little similar is sure by no rule, whatever its rivals)
    # (a post whose quote is in no item is only ever for review: nothing more to weigh)
    if not sure and not quote_missing and (best >= CLEAR_SURE or not same):
        # A rival the post reports otherwise (figures of the same kind, another place) is
        # another event on the topic, not a competitor: without it the best may be sure.
        # (in rank order, up to the first real competitor: it blocks whatever is behind it)
        natives = [(s, d) for s, d in ranked[1:] if index.same_language(d, language)][:1]
        close = [d for s, d in (*rivals[:2], *natives) if s >= best * CLEAR_MARGIN]
        other: set[int] = set()
        for d in dict.fromkeys(sorted(close, key=lambda d: -scores[d])):
            if not _against(commentary, index, d):
                break
            other.add(d)
        if other:
            kept = [(s, d) for s, d in ranked if d not in other]
            without = [(s, d) for s, d in rivals if d not in other]
            rule, raised, runner, shown, facts = _sure_rule(commentary, index, kept, without)
            # That the post tells its close rivals otherwise says nothing of the best: it
            # may be a third telling of the topic (a warning before the event, a report
            # from another region), the post's news in none of them.  Sure only where the
            # best has a figure of the post too.
            agreed = sum(1 for fact in facts.shared if fact[:1].isdigit())
            if rule and agreed >= TOLD_APART:
                sure, confidence, second, evidence, found = rule, raised, runner, shown, facts
                told = ", ".join(index.keys[d] for d in sorted(other, key=index.order_of))
                evidence.append(f"the post tells {told} otherwise: another event")
    against = _against(commentary, index, doc) if sure and not quote_missing else []
    if sure and not same and not quote_missing:
        missing = _figures_missing(commentary, index, doc)
        if missing:
            against.append(missing)
    if sure and same and not quote_missing:
        # An item in another language with far more of the post's names and figures is
        # what it retells, not a translation of the best: the best is another event.
        foreign = next((d for _, d in ranked[1:4] if not index.same_language(d, language)), None)
        if foreign is not None:
            theirs = _shared_evidence(commentary, index, foreign, [doc]).shared
            if len(theirs) >= max(FOREIGN_FACTS, 2 * len(found.shared)):
                against.append(f"{index.keys[foreign]} has more of its names and figures")
    if sure and not quote_missing and not against:
        # (said only where nothing more telling is: a figure told otherwise, a repeat)
        elsewhere = _news_figures_elsewhere(commentary, index, doc)
        if elsewhere:
            against.append(elsewhere)
        elif _FOLLOWS.search(news := _news_text(commentary)):
            # News told as following another event, with a figure the item lacks: the
            # item is the event followed ("Вслед за квотой для кандасов — 2 350 семей —
            # правительство утвердило и вторую … 3 800 семей").
            new = _unexplained(news, commentary, index, doc)
            if new:
                against.append(
                    f"its news follows another event, and its {_figure(new[0])} is not in it"
                )
    old = _too_old(commentary, index, doc) if sure else None
    if old:
        against.append(old)
    after = index.time_of(doc) > (commentary.published + AFTER_POST).timestamp()
    if sure and after and not quote_missing:
        # The window reaches past the post for feeds' clocks; an item this much later is
        # no source a rule may be sure of (as the score may not: ``score_not_sure``).
        hours = (index.time_of(doc) - commentary.published.timestamp()) / 3600
        against.append(f"published {hours:.0f} hours after the post: an editor decides")
    if against:
        evidence.append("against: " + "; ".join(against))
        sure = None
    confidence = max(confidence, CONFIDENT) if sure else min(confidence, CONFIDENT - 0.01)
    if quote_missing:
        # Its quote is in no stored item: the item found is most likely another outlet's
        # report of the event, its source never fetched.  An editor decides.
        confidence = min(confidence, CONFIDENT - 0.01)
    if sure and confidence >= CONFIDENT:
        evidence.append(f"sure: {sure}")
    rules_sure = confidence >= CONFIDENT
    # (the score is weighed only within the days the rules ask, or for an observer; how
    # similar the item is, the score weighs itself)
    may_score = not rules_sure
    may_score = may_score and index.time_of(doc) >= (commentary.published - SURE_WITHIN).timestamp()
    features = None
    if not quote_missing and (observe is not None or may_score):
        features, _ = similarity_features(
            commentary,
            index,
            ranked,
            rivals,
            scores,
            whole,
            every=observe is not None,
            weighed=weighed,
        )
    if (
        # (``may_score`` too, not only the guards: a run with an observer weighs every
        # decision's evidence, and must decide as a run without one)
        may_score
        and features is not None
        and not _score_guarded(features)
        and score_may_decide(features)
    ):
        # Where no rule is sure, the evidence weighed together decides: a score calibrated
        # on the hand-written set's dev posts (rounds 1-7, frozen since), with the guards
        # above kept as rules.  Where only what it cannot weigh holds it (a figure of the
        # news the item lacks, its age, a follow-up), an editor sees it likely.
        score = calibrated_score(features)
        held = score_not_sure(features)
        if score >= SCORE_SURE and held:
            confidence = max(confidence, REVIEW)
            evidence.append(
                f"likely: its evidence together (calibrated score {score:.2f}), but {held}"
            )
        elif score >= SCORE_SURE:
            confidence = max(confidence, CONFIDENT)
            evidence.append(f"sure: its evidence together (calibrated score {score:.2f})")
    if observe is not None and features is not None:
        # (the evidence as numbers, for benchmarks/matching/fit.py)
        observe(
            index.keys[doc],
            {
                **features,
                "rules": float(rules_sure),
                "confident": float(confidence >= CONFIDENT),
            },
        )
    candidates = tuple(
        (index.keys[d], round(_similar_confidence(s, second if d == doc else best), 3))
        for s, d in ranked[:3]
    )
    # (every item ranked: the rules read any of them, and cache.py matches again when one goes)
    considered = tuple(dict.fromkeys(index.keys[d] for _, d in ranked))
    if confidence < REVIEW:
        return Match(
            candidates=candidates, note="no stored item is similar enough", considered=considered
        )
    note = "similar title and text" if same else "names and numbers across languages"
    return Match(
        (index.keys[doc],),
        "similarity",
        round(confidence, 3),
        candidates=candidates,
        note=note,
        evidence=tuple(evidence),
        considered=considered,
    )


def similarity_features(
    commentary: Commentary,
    index: MatchIndex,
    ranked: Sequence[tuple[float, int]],
    rivals: Sequence[tuple[float, int]],
    scores: Mapping[int, float],
    whole: Mapping[int, float],
    *,
    every: bool = True,
    weighed: tuple[tuple[int, ...], _Evidence] | None = None,
) -> tuple[dict[str, float], list[str]]:
    """The evidence on the best of ``ranked`` (score, doc; best first) against ``rivals``
    (the other candidates that compete with it): as numbers, what fit.py and the
    calibrated score weigh, and in words, what an editor sees.

    Rivals the post tells otherwise (its figures of their kind, other values) are another
    event on the topic and are set aside, in rank order up to the first that is not
    (``told_otherwise``).  ``scores`` are the items' best scores (whole post or a passage),
    ``whole`` the whole post's.  Not ``every``: only what the calibrated score and its
    guards read (the rest is left out, "together" where the others settle it).
    ``weighed``: rivals and the evidence already weighed against them (not weighed again)."""
    best, doc = ranked[0]
    language = commentary.language
    same = index.same_language(doc, language)
    natives = [(s, d) for s, d in ranked[1:] if index.same_language(d, language)]
    close = [d for s, d in (*rivals[:2], *natives[:1]) if s >= best * CLEAR_MARGIN]
    other: set[int] = set()
    for d in dict.fromkeys(sorted(close, key=lambda d: -scores[d])):
        if not _against(commentary, index, d):
            break
        other.add(d)
    kept = [(s, d) for s, d in rivals if d not in other]
    second = kept[0][0] if kept else 0.0
    against_docs = tuple(d for _, d in kept[:3])
    if weighed is not None and weighed[0] == against_docs:
        found = weighed[1]
    else:
        found = _shared_evidence(commentary, index, doc, against_docs)
    native = max((s for s, d in natives if d not in other), default=0.0)
    news = _news_text(commentary)
    unexplained = _unexplained(news, commentary, index, doc)
    days = (commentary.published.timestamp() - index.time_of(doc)) / 86400
    old = index.time_of(doc) < (commentary.published - SURE_WITHIN).timestamp()
    against = _against(commentary, index, doc)
    elsewhere = _news_figures_elsewhere(commentary, index, doc)
    # (an own-language item's guards do not read it)
    missing = _figures_missing(commentary, index, doc) if every or not same else None
    shared = len(found.shared)
    foreign_more = False
    if same:
        foreign = next((d for _, d in ranked[1:4] if not index.same_language(d, language)), None)
        if foreign is not None:
            theirs = _shared_evidence(commentary, index, foreign, [doc]).shared
            foreign_more = len(theirs) >= max(FOREIGN_FACTS, 2 * shared)
    key = index.keys[doc]
    shown = [f"shares {', '.join(found.shared[:6])} with {key}"] if found.shared else []
    if found.runner:
        shown.append(f"a rival has {found.runner} of them")
    if rivals:
        shown.append(f"runner-up {second / max(best, 1e-9):.2f} of its similarity")
    if other:
        told = ", ".join(index.keys[d] for d in sorted(other, key=index.order_of))
        shown.append(f"the post tells {told} otherwise: another event")
    if unexplained:
        shown.append(f"not in it: {', '.join(map(_figure, unexplained[:3]))}")
    reasons = [*against, *([missing] if missing and not same else [])]
    if elsewhere and not reasons:
        reasons.append(elsewhere)
    if old:
        reasons.append(f"published {days:.0f} days before the post: an editor decides")
    if reasons:
        shown.append("against: " + "; ".join(reasons))
    best = max(best, 1e-9)
    features = {
        "best": best,
        "share": second / best,
        "raw_share": (rivals[0][0] / best) if rivals else 0.0,
        "native_share": 0.0 if same else native / best,
        "same": float(same),
        "shared": float(shared),
        "distinct": float(shared - found.runner),
        "runner": float(found.runner),
        "own": float(found.own),
        "facts": float(found.facts),
        "shared_share": shared / max(found.facts, 1),
        "shared_figures": float(sum(1 for t in found.shared if t[:1].isdigit())),
        "unexplained": float(len(unexplained)),
        "figures_missing": float(missing is not None),
        "against": float(bool(against)),
        "elsewhere": float(bool(elsewhere)),
        "days": days,
        "old": float(old),
        "whole_share": whole.get(doc, 0.0) / best,
        "title": index.coverage(commentary.title, doc) if commentary.title else 0.0,
        "told_otherwise": float(len(other)),
        "foreign_more": float(foreign_more),
        "follows": float(bool(_FOLLOWS.search(news))),
    }
    if every or not (shared or found.own):
        features["together"] = float(
            _figures_together(commentary, index, doc, [(s / best, d) for s, d in kept[:3]])
        )
    if every:
        in_news = bool(found.shared) and _in_news(found.shared, commentary)
        features["in_news"] = float(in_news)
        features["news_figures"] = float(len(_figures_in(news, commentary.published.year)))
    return features, shown


# The calibrated score (benchmarks/matching/fit.py, README "Issue 10, round 9"): a
# logistic regression of "the best item is the source" on similarity_features, fitted on
# the dev posts of the hand-written set's rounds 1-7, each post with a source also with
# its event withheld; its configuration and threshold chosen leave-one-round-out.
# (feature, mean, scale, weight on the standardized feature)
SCORE: tuple[tuple[str, float, float, float], ...] = (
    ("best", 0.169168, 0.0620685, +0.908279),  # similarity of the best item
    ("share", 0.393326, 0.203583, -0.616049),  # the runner-up's share of it
    ("native_share", 0.0704373, 0.161354, -0.168294),  # the best own-language item's
    ("same", 0.802817, 0.397872, -0.2697),  # the item in the post's language
    ("distinct", 2.1831, 2.18709, +0.645345),  # its facts of the post no rival has
    ("runner", 0.570423, 0.715993, +0.0123474),  # the post's facts a rival has
    ("own", 6.57746, 4.95945, +1.03849),  # rare words of the post only it has
    ("shared_share", 0.487029, 0.345967, +1.23586),  # share of the post's facts in it
    ("shared_figures", 1.5, 1.62181, +0.930612),  # figures of the post in it
    ("unexplained", 0.950704, 1.2855, -0.904956),  # figures of the post's news not in it
    ("title", 0.421451, 0.434148, +0.936744),  # coverage of the post's title
)
SCORE_INTERCEPT = 3.43928
SCORE_SURE = 0.797  # confident from this probability on, where no rule is sure


def calibrated_score(features: Mapping[str, float]) -> float:
    """The probability that a similarity match's best item is its source, by its evidence
    (``similarity_features``)."""
    z = SCORE_INTERCEPT + sum(w * (features[n] - m) / s for n, m, s, w in SCORE)
    return 1 / (1 + math.exp(-z))


# News told as following another event ("Вслед за квотой для кандасов … утвердило и
# вторую", "Следом за подсолнечником пошлину могут ввести на рапс"): a follow-up or a
# sibling, whose earlier event is what the store most likely holds (on the 17 dev rounds,
# 11 of the 12 posts saying so are no-match posts).
_FOLLOWS = re.compile(r"(?<!\w)(?:[Вв]след|[Сс]ледом) за\s")
# The window reaches WINDOW_AFTER past a post, for feeds' clocks and time zones; an item
# later than this is no source the score may be sure of.
AFTER_POST = timedelta(hours=6)
SCORE_CLOSE_RIVAL = 0.8  # a runner-up this share of the best's similarity: no clear best
APART_FACTS = 2  # ... unless the best has this many facts of the post and the rivals none


def _too_old(commentary: Commentary, index: MatchIndex, doc: int) -> str | None:
    """In words, when item ``doc`` is older than ``RULES_WITHIN`` before the post: an
    editor may comment on a days-old item, but a post days after an item on its story
    more often reports the story's next stage (the court's arrest after the stored
    detention, under nearly the stored title), which the store may not hold."""
    if index.time_of(doc) >= (commentary.published - RULES_WITHIN).timestamp():
        return None
    days = (commentary.published.timestamp() - index.time_of(doc)) / 86400
    return f"published {days:.0f} days before the post: an editor decides"


def score_vetoed(features: Mapping[str, float]) -> bool:
    """Whether a guard keeps the score from deciding (``_score_guarded``,
    ``score_not_sure``): what benchmarks/matching/fit.py measures the score behind."""
    return _score_guarded(features) or score_not_sure(features) is not None


def _score_guarded(features: Mapping[str, float]) -> bool:
    """The guards the score never overrules: a rival about as similar (unless no rival has
    any of the post's names and figures and the item has ``APART_FACTS`` of them: the
    rival shares the topic's words, not the event); the post gives the item's figures
    otherwise, says it repeats it or sets it beside its news; the item is older than
    ``SURE_WITHIN``; an item in another language has none of the post's figures;
    close rivals the post tells otherwise were set aside and the item has none of its
    figures either (a third telling of the topic, as the rules hold it); more of the
    figures of the post's news are missing from the item than in it, and it has at most
    ``ONE_FACT`` of the post's names and figures that its rivals lack (a place and the
    topic's words: another event there) or, in another language, none of its
    distinctive figures (names and loanwords meet whatever the event).  (The score is
    fitted on the decisions these leave.)"""
    apart = not features["runner"] and features["distinct"] >= APART_FACTS
    return bool(
        (features["share"] > SCORE_CLOSE_RIVAL and not apart)
        or (features["told_otherwise"] and features["shared_figures"] < TOLD_APART)
        or features["against"]
        or features["old"]
        or (features["figures_missing"] and not features["same"])
        or (
            features.get("elsewhere")
            and (
                features["distinct"] <= ONE_FACT
                or (not features["same"] and not features["shared_figures"])
            )
        )
    )


def score_not_sure(features: Mapping[str, float]) -> str | None:
    """In words, why the score may find an item likely but not publish it (round 19, since
    it publishes): a figure of the post's news the item lacks (a follow-up or a sibling
    has figures of its own: the strike's end with its own 50 000 tenge, the other city's
    fare); an item older than ``RETOLD_WITHIN`` (the bound of "every figure of its news
    in it", the rule no margin backs either); an item published more than
    ``AFTER_POST`` after the post (no source on the 17 dev rounds was published after
    its post, 46 wrong best items were, up to the window's day); news the post tells as
    following another event ("вслед за …": the event followed is what the store most
    likely holds)."""
    if features["unexplained"]:
        return "a figure of its news is not in it"
    if features["days"] > RETOLD_WITHIN / timedelta(days=1):
        return f"published {features['days']:.0f} days before the post"
    if features["days"] < -AFTER_POST / timedelta(days=1):
        return f"published {-24 * features['days']:.0f} hours after the post"
    if features.get("follows"):
        return "its news follows another event"
    return None


def score_may_decide(features: Mapping[str, float]) -> bool:
    """Whether the evidence leaves the score anything to decide: the item has something of
    the post's event (a name or figure of the post, a rare word of it only this item has,
    or the figures of its news together: topic words alone are what another event on the
    topic shares too); some name or figure of the post tells it from its rivals (else the
    post may be another outlet's telling); no item in another language has far more of the
    post's names and figures (that is what it retells).  (How similar the item is, the
    score weighs itself: no floor of the rules' is kept for it.)"""
    of_its_event = features["shared"] or features["own"] or features.get("together")
    told_apart = features["distinct"] >= 1 or not features["runner"]
    return bool(of_its_event and told_apart and not features["foreign_more"])


TELLINGS_APART = timedelta(hours=12)  # two outlets' reports of one event: this close in time
TELLING_CLOSE = 0.5  # ... among the items at least this share of the best's similarity
TELLING_FACTS = 2  # names and figures of the post one telling has and the other lacks


def _tellings(
    commentary: Commentary,
    index: MatchIndex,
    ranked: Sequence[tuple[float, int]],
    names: Mapping[str, str],
) -> tuple[int | None, set[int]]:
    """(the telling the post follows, or None; the other tellings) where the items ranked
    first are two outlets' tellings of one event: in the post's language, from other
    sources, published within TELLINGS_APART of each other, both with a name of the post
    (a sibling event of another place or group has its own names).  The post follows the
    one whose outlet it names, or the one with TELLING_FACTS of its names and figures the
    others lack and none they have that it lacks, where that one has every figure of the
    news; neither: None (what both tell alike, their figures, says nothing of which it
    retells)."""
    language = commentary.language
    own = [(s, d) for s, d in ranked[:4] if index.same_language(d, language)]
    if len(own) < 2:
        return None, set()
    top, first = own[0]
    group = [first]
    for score, doc in own[1:3]:
        if (
            score >= top * TELLING_CLOSE
            and all(index.source_of(doc) != index.source_of(d) for d in group)
            and abs(index.time_of(doc) - index.time_of(first)) <= TELLINGS_APART.total_seconds()
            and not index.same_text(first, doc)
        ):
            group.append(doc)
    if len(group) < 2:
        return None, set()
    held = {d: _shared_evidence(commentary, index, d, ()).held for d in group}
    common = set.intersection(*(set(h) for h in held.values()))
    if not any(isinstance(fact, int) for fact in common):  # (a name: a word's skeleton id)
        return None, set()
    # (and only a telling with every figure of the news: a sibling event beside the one
    # told, the regional ceremony after the capital's, has figures of its own)
    news = _news_text(commentary)
    named = [d for d in group if _names_outlet(commentary.text, names.get(index.source_of(d)))]
    if len(named) == 1:
        chosen = named[0]
    else:
        chosen = next(
            (
                doc
                for doc in group
                if all(
                    h <= held[doc] and len(held[doc] - h) >= TELLING_FACTS
                    for d, h in held.items()
                    if d != doc
                )
            ),
            None,
        )
    if chosen is None or _unexplained(news, commentary, index, chosen):
        return None, set(group)
    return chosen, set(group) - {chosen}


def _names_outlet(text: str, name: str | None) -> bool:
    """Whether ``text`` names the outlet ``name`` (its configured name, or the name
    declined: "Казинформа", "Tengrinews'а")."""
    if not name or len(name) < 3:
        return False
    stem = name[:-1] if len(name) > 4 and name[-1].lower() in "аеиоуыэюяaeiouy" else name
    return re.search(rf"(?<!\w){re.escape(stem)}", text, re.IGNORECASE) is not None


def _sure_rule(
    commentary: Commentary,
    index: MatchIndex,
    ranked: list[tuple[float, int]],
    rivals: list[tuple[float, int]],
) -> tuple[str | None, float, float, list[str], _Evidence]:
    """(the rule that makes the best of ``ranked`` sure, or None; its confidence; the
    runner-up's score; the evidence shown; the names and figures weighed) against
    ``rivals``."""
    best, doc = ranked[0]
    language = commentary.language
    same = index.same_language(doc, language)
    second = rivals[0][0] if rivals else 0.0
    confidence = _similar_confidence(best, second)
    others = [d for _, d in rivals[:3]]
    if not same:
        # Across languages the post's facts must agree with no item in its own language
        # either: its nearest own-language items are rivals too, however many translations
        # rank above them (a bare figure shared with one is no fact of one event).
        natives = [d for _, d in ranked[1:] if index.same_language(d, language)][:NATIVE_RIVALS]
        others += [d for d in natives if d not in others]
    found = _shared_evidence(commentary, index, doc, others)
    shared = found.shared
    evidence = [f"shares {', '.join(shared[:6])} with {index.keys[doc]}"] if shared else []
    distinct = len(shared) - found.runner
    # Each way of being sure, in words (shown as evidence when it is what decided).
    rules: list[tuple[str, bool]] = []
    # Similarity is one piece of evidence; a name or figure of the news that only this
    # item has is a second.  Without it, a follow-up told in the item's words is as
    # similar as a retelling: only a clear winner, very similar and at most RETOLD_WITHIN
    # older than the post (a later stage comes days after), is sure (README, round 21).
    seconded = distinct >= 1 and _in_news(shared, commentary)
    recent = index.time_of(doc) >= (commentary.published - RETOLD_WITHIN).timestamp()
    # (an item lacking most of the figures of the post's news is sure by no rule:
    # ``_news_figures_elsewhere``, weighed after them)
    if same:
        rules = [
            ("far more similar than any other item", confidence >= CONFIDENT and seconded),
            # A clear winner: far ahead of every other item in the window, and a name or
            # number of the post only this item has (a follow-up of the same story shares
            # the topic's words, not the new facts) ...
            (
                "a clear winner with a name or figure of the post only it has",
                best >= CLEAR_WINNER and second <= best * CLEAR_MARGIN and seconded,
            ),
            # ... or very similar, and published within the days a retelling follows it.
            (
                "a clear winner, very similar, published within two days before the post",
                best >= CLEAR_ALONE and second <= best * CLEAR_MARGIN and recent,
            ),
            # Names and numbers agree with this item, not with the others.
            (
                "its names and figures agree with it, not with the others",
                best >= EVIDENCE_COVERAGE
                and (
                    (distinct >= EVIDENCE_SURE and second <= best * 0.8)
                    or (distinct >= 2 and second <= best * 0.6)
                ),
            ),
            # Several rare words of the post are in this item and in none of its rivals,
            # and so are most of its names and figures (rare words may be the topic's: a
            # neighbour on it has them too, but not the facts of the post's event).
            (
                "rare words of the post only it has, with most of its names and figures",
                best >= CLEAR_SURE
                and found.own >= OWN_SURE
                and second <= best * OWN_MARGIN
                and 2 * len(shared) >= found.facts,
            ),
        ]
        if not any(holds for _, holds in rules):  # (the figures are looked up only then)
            # Far ahead, as similar as a retelling is, and no figure of the post missing
            # from it (a follow-up or another event on the topic has figures of its own).
            # (and at least one figure: a post without any says nothing of the event's)
            settled = best >= SETTLED_SURE and second <= best * CLEAR_MARGIN
            settled = settled and any(t[:1].isdigit() for t in shared)
            settled = settled and not _unexplained(commentary.text, commentary, index, doc)
            rules.append(("far ahead, with every figure of the post", settled))
            # Ahead, and the figures of its news are all in it together, not in a rival.
            together = best >= CLEAR_SURE and second <= best * TOGETHER_MARGIN
            together = together and _figures_together(
                commentary, index, doc, [(s / best, d) for s, d in rivals[:3]]
            )
            rules.append(("the figures of its news together in it alone", together))
            # Whatever the margin: every figure of its news in it, a name or figure of the
            # post too, and (weighed after the rules) nothing against it.
            # (not where a rival tells every figure too, and no fact of the post only the
            # best has: another outlet's telling of the event, or its earlier report)
            told = _news_told(commentary, index, doc, found)
            told = told and not _told_alike(commentary, index, doc, found, rivals)
            rules.append(("every figure of its news in it", told))
    else:
        # Across languages: confident only when names, numbers and dates agree with this
        # item, not with the runner-up, and no item in the post's own language is close.
        native = max((s for s, d in ranked if index.same_language(d, language)), default=0.0)
        numbers = sum(1 for t in shared if t[:1].isdigit())
        unique = (
            distinct >= EVIDENCE_SURE
            or (distinct >= 2 and second <= best * 0.4)
            or (len(shared) >= 3 and second <= best * 0.25)
        )
        # A native item sharing at most one of the post's names and numbers is another
        # event on the topic, not its own-language telling: it may come closer.
        native_limit = 0.8 if found.runner <= 1 and distinct >= EVIDENCE_SURE else 0.6
        rules = [
            (
                "its names and figures agree with it across languages, with no other item",
                unique and (numbers >= 1 or len(shared) >= 3) and native < best * native_limit,
            ),
            (
                "rare words of the post only it has, across languages",
                found.own >= OWN_SURE and second <= best * OWN_MARGIN and native < best * 0.7,
            ),
        ]
        # (one item in the window with every figure of the news and a fact no rival has)
        told = distinct >= 1 and _news_told(commentary, index, doc, found)
        rules.append(("every figure of its news in it alone, across languages", told))
    sure = next((label for label, holds in rules if holds), None)
    return sure, confidence, second, evidence, found


def _news_told(commentary: Commentary, index: MatchIndex, doc: int, found: _Evidence) -> bool:
    """Whether item ``doc`` has every figure of the post's news (one at least), however
    either writes them, and a name or figure of the post: sure whatever its margin over
    the runner-up.  A sibling (the same statistic for another region), the story's
    earlier stage or its next, another event on the topic: each has figures of its own
    where the news has its own.  Of the dev rounds' 280 wrong best items (198 runs with
    the post's event withheld, 78 no-match posts, 4 another item first), 262 had figures
    in their news and 258 lacked one; the other 4 were more than three days older than
    the post (benchmarks/matching/README.md, round 16).  A figure counts where the item
    has it exactly or the post rounds it, not where the item's round figure may stand for
    it ("from 120 to about 100" universities is no telling of "со 102 до 118 тенге").
    What can still be against the item (figures told otherwise, a repeat, its age) is
    weighed after the rules; a post whose news has no figure is not judged by this.
    Only an item from RETOLD_WITHIN before the post on: the story's earlier report has
    the figures its next stage repeats, and on the 13 dev rounds its age alone told it
    apart (the right items of this rule at most 0.9 days older than their post, the wrong
    ones with every figure of the news 3.2 days and more: README, round 17)."""
    if not found.shared or index.time_of(doc) < (commentary.published - RETOLD_WITHIN).timestamp():
        return False
    news = _news_text(commentary)
    figures = _figures_in(news, commentary.published.year)
    counted = _quantities(figures, news)
    if not counted or all(_a_year(q, news) for q in counted):
        # Years alone ("построенное в 1978 году") are the history every item on the
        # place tells, not the news's figures.
        return False
    values = _item_values(index, doc)
    return all(_has_value(index, doc, values, q, item_rounds=False) for q in figures)


def _a_year(quantity: Quantity, news: str) -> bool:
    """Whether ``quantity`` is a year ``news`` writes as one: 1900-2099 in digits, "году"
    or "in" with it ("две тысячи" tenge is a price)."""
    value = quantity.value
    if quantity.unit or value != int(value) or int(value) not in _YEARS:
        return False
    year = int(value)
    return bool(
        re.search(rf"(?<![\d.,]){year}\s*(-?\w{{0,3}}\s+)?(год|г\.|гг|жыл|ж\.)", news, re.I)
        or re.search(rf"\b(in|since|from) {year}\b", news, re.I)
    )


def _told_alike(
    commentary: Commentary,
    index: MatchIndex,
    doc: int,
    found: _Evidence,
    rivals: Sequence[tuple[float, int]],
) -> bool:
    """Whether a rival of item ``doc`` (of the first three) has every figure of the news
    too, and every name and figure of the post ``doc`` has: two tellings of one event
    alike in what the post says (which it retells, those figures do not tell)."""
    for _, rival in rivals[:3]:
        theirs = _shared_evidence(commentary, index, rival, (doc,))
        if found.held <= theirs.held and _news_told(commentary, index, rival, theirs):
            return True
    return False


# A day of a month or a time of day is shared by every event around it (the holidays'
# dates are the trains' and the closures' too): news whose only figures are such is not
# told by an item that has them.
_CLOCK = re.compile(r"\b(\d{1,2}):(\d{2})\b")
_MONTH = (
    r"(?:январ|феврал|март|апрел|ма[йяе]|июн|июл|август|сентябр|октябр|ноябр|декабр|"
    r"қаңтар|ақпан|наурыз|сәуір|мамыр|маусым|шіл|тамыз|қыркүйек|қазан|қараш|желтоқсан|"
    r"january|february|march|april|may|june|july|august|september|october|november|december)"
)
_MONTH_DAY = re.compile(rf"\b{_MONTH}\w*\s+(\d{{1,2}})\b", re.IGNORECASE)  # "March 19"
_MONTH_UNIT = re.compile(rf"{_MONTH}|ма$")  # a figure's unit, as ``quantities`` stems it
_TIMES_OF_DAY = frozenset(("утр", "вечер", "ноч", "am", "pm"))


def _quantities(figures: Sequence[Quantity], news: str) -> list[Quantity]:
    """The news's ``figures`` that are quantities, not dates of the calendar ("с 19 по 27
    марта", "March 19", "19-27 наурыз", "в 10 утра", "14:30")."""
    calendar = _calendar(news)
    return [
        q
        for q in figures
        if not _MONTH_UNIT.match(q.unit) and q.unit not in _TIMES_OF_DAY and q.value not in calendar
    ]


@functools.lru_cache(maxsize=64)
def _calendar(news: str) -> frozenset[float]:
    """The days of a month and the hours and minutes ``news`` writes as figures."""
    days = {float(n) for match in _CLOCK.finditer(news) for n in match.groups()}
    days |= {float(match.group(1)) for match in _MONTH_DAY.finditer(news)}
    return frozenset(days)


def _against(commentary: Commentary, index: MatchIndex, doc: int) -> list[str]:
    """Evidence, in words, that item ``doc`` is not what the post reports: the post gives
    its figures or places otherwise, or the item is the earlier report the post says it
    repeats."""
    against = _contradictions(commentary, index, doc)
    earlier = _reported_before(commentary, index, doc)
    beside = _named_beside(commentary, index, doc)
    return [*against, *(reason for reason in (earlier, beside) if reason)]


# Spans of time are often told from another figure ("за двенадцать минут до конца" for
# "на 78-й минуте", "полсуток" for "12 часов"), and so are times of day ("в 10 вечера"
# for "в 22:00"): no evidence against an item.
_SPANS = frozenset(
    ("секунд", "минут", "час", "суток", "сутк", "ден", "дне", "дня", "недел", "месяц",
     "лет", "год", "утр", "вечер", "ноч")
)  # fmt: skip
# ... nor, where figures are set against each other, a ratio ("в 10 раз"); a ratio of
# the news is still one of its figures (``_news_figures``).
_DURATIONS = _SPANS | {"раз"}

ONE_FACT = 1  # the score: an item with this many of the post's facts its rivals lack, at most ...


def _news_figures_elsewhere(commentary: Commentary, index: MatchIndex, doc: int) -> str | None:
    """In words, when more of the figures of the post's news are missing from item
    ``doc`` than are in it, however either writes them (spans and times of day apart:
    those are told from any figure, "за двенадцать минут до конца" for "на 78-й
    минуте"; nor dates of the calendar, which every event around them shares: a shared
    day does not outweigh a missing quantity).  A place, a name and the topic's words are
    what another event there shares too (the story's earlier stage or its next, a
    neighbour on the topic, the same news from another region); the news's own figures
    are what its report has.
    No rule is sure of such an item, in any language; nor is the score where the item
    has at most ``ONE_FACT`` of the post's facts its rivals lack, or is in another
    language with none of the post's distinctive figures (``score_vetoed``)."""
    news = _news_text(commentary)
    figures = _quantities(_news_figures(commentary), news)
    if not figures:
        return None
    values = _item_values(index, doc)
    missing = [q for q in figures if not _has_value(index, doc, values, q)]
    if 2 * len(missing) <= len(figures):
        return None
    return (
        f"its news's {', '.join(map(_figure, missing[:3]))} not in it (of {len(figures)} "
        "figures): another stage or event on the topic"
    )


def _news_figures(commentary: Commentary, apart: frozenset[str] = _SPANS) -> list[Quantity]:
    """The figures of the post's news, those whose unit is in ``apart`` left out: spans of
    time and times of day (a ratio, "превышение в 3,1 раза", is a figure of the news)."""
    news = _news_text(commentary)
    # (nor what the news says was replaced: "вместо нынешних 1 500 евро" is the earlier figure)
    figures = _figures_in(news, commentary.published.year)
    return [q for q in figures if q.unit not in apart and not q.replaced]


MISSING_FIGURES = 2  # a post's news with this many figures, none of them in an item ...


def _figures_missing(commentary: Commentary, index: MatchIndex, doc: int) -> str | None:
    """In words, when the post's news has figures (MISSING_FIGURES or more) and item
    ``doc`` has none of them, in any form: across languages, names and loanwords meet
    whatever the event, and only agreeing figures tell its source from another item on
    the topic (the spans of time a post tells from any other figure apart)."""
    figures = _news_figures(commentary, _DURATIONS)
    if len(figures) < MISSING_FIGURES:
        return None
    values = _item_values(index, doc)
    if any(_has_value(index, doc, values, q) for q in figures):
        return None
    return f"none of its figures ({', '.join(map(_figure, figures[:3]))}) is in it"


def _in_news(tokens: Sequence[str], commentary: Commentary) -> bool:
    """Whether some of ``tokens`` are in what the post reports, not only in its comment
    (which may name the story's earlier events: "трансформатор «Южной»")."""
    news = _news_text(commentary)
    return news == commentary.text or bool(set(tokens).intersection(words(news)))


def _news_text(commentary: Commentary) -> str:
    """What the post reports: its title, quotes and the retelling before its heading (the
    whole post when it has no heading), without what it says repeats earlier reports."""
    intro = commentary.intro_text
    if not intro:
        return _news_of(commentary.text)
    # (quotes inside the comment are the comment's, not the news)
    quotes = commentary.quotes if commentary.separate_quote else ()
    return _news_of("\n".join((commentary.title, *quotes, intro)))


@functools.lru_cache(maxsize=64)
def _news_of(text: str) -> str:
    return _without_neighbours(_without_converted(without_background(text)))


# A sentence giving a figure the house worked out from another ("почти три с половиной
# миллиона тенге, если пересчитать долларовую цену по нынешнему курсу"): its figures are
# the house's arithmetic, not the news's (the item has the figure converted from).  Told
# by the exchange rate or a currency, not by "пересчитать" alone: that is also to count
# again ("государство пересчитает всё сельское хозяйство", a census's own figures).
_CONVERTED = re.compile(
    r"(?<!\w)(?:по\s+(?:нынешнему|текущему|сегодняшнему|официальному|биржевому)\s+курсу"
    r"|по\s+курсу\s+(?:Нацбанка|НБК)|в\s+пересч[её]те\s+на\s+(?:тенге|доллар|евро|рубл|юан))",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def _without_converted(text: str) -> str:
    if not _CONVERTED.search(text):
        return text
    return "\n".join(
        " ".join(s for s in _SENTENCE_END.split(line) if not _CONVERTED.search(s))
        for line in text.split("\n")
    )


# A phrase naming another event the post sets its news beside ("Кроме Мюнхена, …",
# "Вслед за АИ-92 …", "В отличие от Алматы …"): its names are the neighbour's.
_CAPITAL = "[A-ZА-ЯЁӘҒҚҢӨҰҮҺІ][\\w-]*"
_BESIDE = re.compile(
    rf"(?<!\w)(?:[Кк]роме|[Пп]омимо|[Вв]след за|[Вв] отличие от)\s+"
    rf"{_CAPITAL}(?:(?:\s*,\s*|\s+и\s+|\s+){_CAPITAL})*"
)


def _without_neighbours(text: str) -> str:
    return _BESIDE.sub(" ", text)


def _named_beside(commentary: Commentary, index: MatchIndex, doc: int) -> str | None:
    """In words, when the post names item ``doc``'s event only to set its news beside it
    ("Кроме Мюнхена, авиакомпания собралась в Сеул")."""
    text = without_background(commentary.text)
    phrases = [m.group() for m in _BESIDE.finditer(text)]
    names = [m.group() for phrase in phrases for m in _NAME.finditer(phrase)]
    for token, sid in index.evidence(words(" ".join(names))):
        if index.has_skeleton(doc, sid):
            return f"the post sets {token} beside its news"
    return None


def _contradictions(commentary: Commentary, index: MatchIndex, doc: int) -> list[str]:
    """The post's figures that item ``doc`` gives otherwise, in words, when they are at
    least as many as those it gives alike: the post reports another event than the item
    ("800 гектаров" where the item's fire burnt "1 200 гектаров", "23 мая" where it says
    "30 мая").  A figure counts where the item has figures of the same kind (the word
    after it), and one the item does not have at all says nothing either way; a post
    that tells another event in passing has fewer of its figures than of its own."""
    # (a figure the post says was replaced, "вместо полутора сотен", is the earlier one)
    ours = [
        q
        for q in dict.fromkeys(quantities(_news_text(commentary)))
        if q.unit not in _DURATIONS and not q.replaced
    ]
    if not ours:
        return []
    theirs: dict[str, list[float | str]] = {}
    for quantity in index.quantities(doc):
        theirs.setdefault(quantity.unit, []).append(quantity.value)
    alike, otherwise = set(), {}
    everything = [value for values in theirs.values() for value in values]
    for quantity in ours:
        values = theirs.get(quantity.unit)
        if not values:
            continue
        if any(_same_figure(quantity, value) for value in values) or _a_change(quantity, values):
            alike.add(quantity)
        elif quantity.unit in _months() or not any(
            _same_figure(quantity, value) for value in everything
        ):
            otherwise[quantity] = values
        # else the item has the figure counted by another word ("900 водителей" for the
        # post's "900 человек"): no evidence either way
    if len(otherwise) < max(1, len(alike)):
        return []
    return [
        f"the post's {q}, the item's {', '.join(str(Quantity(v, q.unit)) for v in values[:3])}"
        for q, values in otherwise.items()
    ]


def _a_change(quantity: Quantity, values: list[float | str]) -> bool:
    """Whether the post's figure is the change between two of the item's figures of its
    kind: "подорожал на 17 тенге" tells "выросла с 98 до 115 тенге" in other figures."""
    if isinstance(quantity.value, str) or quantity.unit in _months():
        return False
    return _a_difference(quantity, [v for v in values if not isinstance(v, str)])


REPORTED_GAP = timedelta(hours=12)  # an item this much older than a post may be its background


def _reported_before(commentary: Commentary, index: MatchIndex, doc: int) -> str | None:
    """In words, when item ``doc`` is the earlier report the post says it repeats: the
    post's sentences marked as such ("как сообщалось", "мы писали о … ещё вчера") have
    figures, the item (published well before the post) has them all, and it lacks
    figures the rest of the post reports -- the news after that report."""
    if index.time_of(doc) > (commentary.published - REPORTED_GAP).timestamp():
        return None
    told = " ".join(background_sentences(commentary.text))
    figures = [q for q in _figures_in(told, None) if q.value >= 10]
    if not figures or _unexplained(told, commentary, index, doc):
        return None
    new = _unexplained(_news_text(commentary), commentary, index, doc)
    if not new:
        return None
    return (
        f"it has what the post says was reported before ({', '.join(map(_figure, figures[:3]))}), "
        f"not the post's {', '.join(map(_figure, new[:3]))}"
    )


def _same_figure(quantity: Quantity, value: float | str, *, item_rounds: bool = True) -> bool:
    """Whether the post's figure is the item's ``value``, or either is the other rounded
    ("446" for 445,9; "447 тысяч" for 446 800; 95 is not 92, 1 000 not 1 200); a day of
    the month is never rounded.  Not ``item_rounds``: only the post may round (the item's
    "about 100" is no telling of the post's exact 102)."""
    if isinstance(quantity.value, str) or isinstance(value, str):
        return quantity.value == value  # a place
    if quantity.value == value:
        return True
    if quantity.bound > 0 and quantity.value in _MAGNITUDES and value < 2 * quantity.value:
        # "больше миллиарда", "свыше тысячи": more than one of its magnitude, short of two
        return value > quantity.value
    span = APPROXIMATE_SPAN if quantity.approximate else ROUNDED_SPAN
    if quantity.unit in _months() or abs(quantity.value - value) > span * max(
        quantity.value, value
    ):
        return False
    # A figure the post gives as approximate stands for any within its span on the side
    # its word puts it ("почти полтора миллиарда" for 1,4 млрд; "более 500" for 520), or
    # is the item's rounded half up ("четверть миллиона" for 245 000); an exact-looking
    # one only as round() does it (165 is no 170).
    if quantity.approximate and quantity.bound * (value - quantity.value) > 0:
        return True
    if _rounds_to(quantity.value, value, half_up=quantity.approximate):
        return True
    return item_rounds and _rounds_to(value, quantity.value)


APPROXIMATE_SPAN = 0.15  # "почти двести" may stand for a figure this far from 200
_MAGNITUDES = frozenset((1e3, 1e6, 1e9, 1e12))  # "тысяча", "миллион", "миллиард", "триллион"


@functools.cache
def _months() -> frozenset[str]:
    """The stems of the months' names as a date writes them ("20 марта")."""
    names = "января февраля марта апреля мая июня июля августа сентября октября ноября декабря"
    return frozenset(stem_tokens(names.split(), ""))


def _rounds_to(rounded: float, exact: float, *, half_up: bool = False) -> bool:
    """Whether ``exact`` rounded to the last significant place of ``rounded`` is it
    (halves to the even place, or ``half_up``)."""
    # (a figure a float's error keeps from being whole counts by its whole digits)
    text = f"{rounded:f}".rstrip("0").rstrip(".") if rounded != int(rounded) else ""
    if "." in text:
        place = 10.0 ** -len(text.split(".")[1])
    else:
        whole = str(int(rounded))
        place = 10.0 ** (len(whole) - len(whole.rstrip("0"))) if int(rounded) else 1.0
    steps = math.floor(exact / place + 0.5) if half_up else round(exact / place)
    return abs(steps * place - rounded) < place / 1000


@dataclass(frozen=True)
class _Evidence:
    shared: list[str]  # names/numbers of the post that the best item has
    runner: int  # how many of them the runner-up with most of them has
    own: int  # distinctive words (any) of the post the best item has and no rival has
    facts: int = 0  # the post's names and figures (once each), known to the store or not
    held: frozenset = frozenset()  # those the best item has (``_fact``s)


def _shared_evidence(
    commentary: Commentary, index: MatchIndex, doc: int, others: Sequence[int]
) -> _Evidence:
    """What the post's names, numbers and rare words say about item ``doc`` and its rivals.

    Only distinctive words count: a name or number in more than 2% of the store, any
    other word in more than 1% of it, says little (for words the best item alone has, a
    figure counts up to 5%).  Words are compared by skeleton, so
    a Russian retelling meets an item in Kazakh or English by its names and loanwords.
    Sentences the post says repeat an earlier report are left out: their facts are the
    background's, not the news it tells."""
    text = _without_neighbours(without_background(commentary.text))
    every = words(text)
    # Figures by value, in every form an item may write them: "два миллиона сто тысяч"
    # meets "2,1 млн", "2 100 000" and "2100 тыс." (each form one fact: ``forms``).
    forms = _written_forms(text)
    numbers = [*spelled_in(text), *forms]
    # Names: capitalized words inside a sentence ("Напоминаем, ..." or "Комиссия ..."
    # opening one is no name), and figures; in the text's order.
    inside = [m.group() for m in _NAME.finditer(text) if not _sentence_start(text, m.start())]
    names = list(dict.fromkeys(words(" ".join(inside))))
    name_limit, word_limit, figure_limit = evidence_limits(len(index))
    # The year of the post is no fact of its event: every item of the season has it.
    year = str(commentary.published.year)
    found = [
        (t, sid)
        for t, sid in index.evidence([*names, *numbers])
        if index.skeleton_df(sid) <= name_limit and t != year
    ]
    # A surname after an initial ("Б. Сапаров") names a person however many items share
    # its skeleton with common words ("справка": "sprv"): an item has it where it names
    # the person in full, the surname beside a name with the initial ("Бауыржан Сапаров").
    initials: dict[str, str] = {}
    for m in _NAME.finditer(text):
        initial = _INITIAL.search(text[: m.start()].rstrip())
        if initial is not None:
            initials.update((t, initial.group()[0]) for t in words(m.group())[:1])
    surnames = {
        t: sid for t, sid in index.evidence(initials) if (t, sid) not in found and t != year
    }
    found += surnames.items()

    def has(d: int, t: str, sid: int) -> bool:
        if t in surnames:
            return index.names_in_full(d, initials[t], t)
        return index.has_skeleton(d, sid)

    # A round figure ("больше двух тысяч ста", "около 600 тысяч") stands for the exact one
    # an item gives (2 114, 612 000): it is shared with an item that has a figure it rounds.
    approximate = [
        (t, sid)
        for t in dict.fromkeys(t for t in (*every, *numbers) if t.isdigit())
        for sid in _rounded_from(t, index)
        if index.skeleton_df(sid) <= name_limit
    ]
    found += approximate
    # A figure only the house's comment gives is background it recalls ("у Экибастуза
    # было 7,3 ПДК"), evidence of the item only where the item carries the figures of the
    # news the post tells before its heading (none of them: another event it is set
    # beside, "а у Павлодара втрое меньше").
    if commentary.intro_text:
        news = _news_text(commentary)
        told = {_fact(t, -1) for t in (*words(news), *spelled_in(news), *_written_forms(news))}
        recalled = [
            (t, sid)
            for t, sid in found
            if t[:1].isdigit() and (forms.get(t) or _fact(t, sid)) not in told
        ]
        if recalled:
            figures, values = _news_figures(commentary), _item_values(index, doc)
            if not figures or not all(_has_value(index, doc, values, q) for q in figures):
                found = [pair for pair in found if pair not in recalled]
    # One fact counts once: a name in two forms ("Хлебодаровку", "Хлебодаровки": one
    # skeleton), a figure and its thousands ("двести тысяч": 200 and 200000), a decimal
    # and its whole part ("16,5": 16 and 16.5).
    facts = {t: forms.get(t) or _fact(t, sid) for t, sid in found}
    shared = list(dict.fromkeys(t for t, sid in found if has(doc, t, sid)))
    shared = list({facts[t]: t for t in reversed(shared)}.values())[::-1]
    runner = max(
        (len({facts[t] for t, sid in found if has(o, t, sid)}) for o in others),
        default=0,
    )
    rare = {sid for t, sid in found if t not in surnames}
    rare.update(sid for _, sid in index.evidence(every) if index.skeleton_df(sid) <= word_limit)
    # A figure is a fact: one in up to 5% of the store still tells items apart.
    figures = {
        sid
        for t, sid in index.evidence([t for t in (*every, *numbers) if t.isdigit()])
        if index.skeleton_df(sid) <= figure_limit
    }
    figures.update(sid for _, sid in approximate)
    rare |= figures
    only = {
        sid
        for sid in rare
        if index.has_skeleton(doc, sid) and not any(index.has_skeleton(o, sid) for o in others)
    }
    # A figure or a capitalized word inside a sentence among them: a fact, not a topic word.
    named = figures.union(sid for _, sid in index.evidence(words(" ".join(inside))))
    only_named = {
        t
        for t, sid in surnames.items()
        if has(doc, t, sid) and not any(has(o, t, sid) for o in others)
    }
    known = {t for t, _ in index.evidence([*names, *numbers])}
    unknown = {
        t for t in (*names, *numbers) if t not in known and len(skeleton(t)) >= 3 and t != year
    }
    total = len(set(facts.values())) + len({_fact(t, -1) for t in unknown})
    held = frozenset(facts[t] for t in shared)
    own = len(only) + len(only_named) if only & named or only_named else 0
    return _Evidence(shared, runner, own, total, held)


def evidence_limits(size: int) -> tuple[int, int, int]:
    """The most items of a store of ``size`` that a name, another word and a figure may
    be in and still tell items apart (cache.py checks whether a count crossed one)."""
    return max(20, size // 50), max(3, size // 100), max(20, size // 20)


@functools.lru_cache(maxsize=64)
def _written_forms(text: str) -> dict[str, str]:
    """The word forms (as ``words`` makes them) an item may write each figure of ``text``
    in, by value -- whole ("2100000"), or in thousands, millions or billions ("2100",
    "2d1") -- each to its fact (``_fact`` of the whole value)."""
    forms: dict[str, str] = {}
    for quantity in _figures_in(text, None):
        value = quantity.value
        whole = f"{value:.2f}".rstrip("0").rstrip(".").replace(".", "d")
        fact = str(_fact(whole, -1))
        for scale in (1, 1e3, 1e6, 1e9):
            part = round(value / scale, 2)
            if part < 1 or (scale > 1 and part >= 1000) or abs(part * scale - value) > 1e-6 * value:
                continue
            form = f"{part:.2f}".rstrip("0").rstrip(".").replace(".", "d")
            if "d" in form or int(part) >= 10:
                forms.setdefault(form, fact)
    return forms


def _fact(token: str, sid: int) -> str | int:
    """What ``token`` (of skeleton ``sid``) says: a figure by its value in thousands or
    its whole part, any other word by its skeleton."""
    whole = token.split("d")[0]
    if whole.isdigit():
        value = int(whole)
        while value and value % 1000 == 0:
            value //= 1000
        return str(value)
    return sid


ROUNDED_SPAN = 0.05  # a round figure stands for exact ones at most this far from it
_YEARS = range(1900, 2100)  # never the exact figure a round one stands for


def _rounded_from(number: str, index: MatchIndex) -> list[int]:
    """Skeleton ids of the exact figures in the store that the round figure ``number``
    may stand for: those it is the rounding of ("2100" for 2 114, "118000" for 117 960),
    within ROUNDED_SPAN of it; a figure in thousands ("600000") also stands for the
    thousands an item writes ("612" of "612 тысяч").  Years are never such a figure."""
    value = int(number)
    found = []
    for scale, figure in ((1, value), (1000, value // 1000 if value % 1000 == 0 else 0)):
        zeros = len(str(figure)) - len(str(figure).rstrip("0"))
        if figure < 100 or not zeros or (scale == 1 and figure in _YEARS):
            continue
        # Figures that round to it: less than half its last digit's place away.
        half = min(10**zeros // 2 - 1, int(figure * ROUNDED_SPAN))
        if half > 1000:
            continue
        for exact, sid in index.figures_between(figure - half, figure + half):
            if exact != figure and exact not in _YEARS:
                found.append(sid)
    return found


def _unexplained(text: str, commentary: Commentary, index: MatchIndex, doc: int) -> list[Quantity]:
    """The figures of ``text`` (``_figures_in``) that item ``doc`` has neither exactly
    nor rounded, however either writes them ("2,1 млн" for "два миллиона сто тысяч")."""
    values = _item_values(index, doc)
    year = commentary.published.year
    return [q for q in _figures_in(text, year) if not _has_value(index, doc, values, q)]


@functools.lru_cache(maxsize=64)
def _figures_in(text: str, year: int | None) -> tuple[Quantity, ...]:
    """The figures of ``text`` by value, however written ("2,1 млн", "два миллиона сто
    тысяч", "2 100 000", "16,5%"), each once: not a one-digit whole number (an item's
    words never hold one), and a year only when it is no year around ``year``, the
    post's (every item of the season has those; None: no year at all)."""
    found: dict[float, Quantity] = {}
    for quantity in quantities(text, bare=True):
        value = quantity.value
        if isinstance(value, str):
            continue
        if value >= 10 or value != int(value):
            found.setdefault(value, quantity)
    if year is not None:
        for token in words(text):
            if token.isdigit() and int(token) in _YEARS and abs(int(token) - year) > 1:
                found.setdefault(float(token), Quantity(float(token), ""))
    return tuple(found.values())


def _item_values(index: MatchIndex, doc: int) -> list[float]:
    """The values of item ``doc``'s figures, as ``quantities`` reads them."""
    return [q.value for q in index.quantities(doc, bare=True) if not isinstance(q.value, str)]


def _has_value(
    index: MatchIndex,
    doc: int,
    values: list[float],
    quantity: Quantity,
    *,
    item_rounds: bool = True,
) -> bool:
    """Whether item ``doc`` (whose figures' values are ``values``) has the post's figure:
    by value, exactly or rounded (not ``item_rounds``: only as the post rounds it), or as
    a word of its text (a year, a figure in a name)."""
    percents = _percents_only(index, doc) if quantity.unit in _measures() else ()
    if percents and any(_same_figure(quantity, p) for p in percents):
        # (a count, "35 килограммов", is not the item's "35%": another thing counted)
        values = [v for v in values if v not in percents]
        if not any(_same_figure(quantity, v, item_rounds=item_rounds) for v in values):
            return False
    if any(_same_figure(quantity, value, item_rounds=item_rounds) for value in values):
        return True
    if quantity.change and _a_difference(quantity, values):
        return True
    if quantity.unit == _TIMES and _a_growth(index, doc, quantity):
        return True
    value = quantity.value
    return value == int(value) and _has_figure(index, doc, _figure_sids(str(int(value)), index))


_PERCENT = "процент"  # the unit of "35%", "35 percent", "35 процентов"


@functools.cache
def _measures() -> frozenset[str]:
    """The stems of units of measure and money (what a count of them is never a percent):
    "35 килограммов" is no "35%" (the word after a figure may be anything else:
    "14,2 — транспорт" after a percent)."""
    names = (
        "килограммов граммов тонн тонны литров кубометров километров метров сантиметров "
        "гектаров мегаватт киловатт тенге долларов евро рублей юаней"
    )
    return frozenset(stem_tokens(names.split(), ""))


def _percents_only(index: MatchIndex, doc: int) -> frozenset[float]:
    """The values item ``doc`` gives only as percents."""
    found = index.quantities(doc, bare=True)
    percents = {q.value for q in found if q.unit == _PERCENT}
    if not percents:
        return frozenset()
    return frozenset(percents - {q.value for q in found if q.unit != _PERCENT})


_TIMES = "раз"  # the unit of "в полтора раза", "в 2,5 раза"


def _a_growth(index: MatchIndex, doc: int, quantity: Quantity) -> bool:
    """Whether the post's ratio ("вырос почти в полтора раза") is a growth the item gives
    as a difference in percent ("на 40% больше"): 1 + 40/100, told as about 1,5."""
    return any(
        _same_figure(quantity, round(1 + q.value / 100, 6))
        for q in index.quantities(doc, bare=True)
        if q.unit == _PERCENT and not isinstance(q.value, str)
    )


def _a_difference(quantity: Quantity, values: list[float]) -> bool:
    """Whether the post's difference ("на три сотни больше") is that between two of the
    item's figures (3 200 places this year, 2 900 the last), of any kind (``_a_change``:
    of the figure's kind)."""
    numbers = sorted(set(values))
    return any(
        _same_figure(quantity, high - low)
        for at, low in enumerate(numbers)
        for high in numbers[at + 1 :]
    )


def _figure(quantity: Quantity) -> str:
    value = quantity.value
    return str(int(value)) if value == int(value) else str(value)


def _figure_sids(figure: str, index: MatchIndex) -> list[int]:
    """Skeleton ids of the forms an item may give ``figure`` in: exactly, in thousands
    ("612 тысяч" for "612000") or rounded."""
    value = int(figure)
    forms = [figure, str(value * 1000)]
    if value % 1000 == 0:
        forms.append(str(value // 1000))
    sids = [sid for _, sid in index.evidence(forms)]
    for form in forms:
        sids += _rounded_from(form, index)
    return sids


def _has_figure(index: MatchIndex, doc: int, sids: list[int]) -> bool:
    return any(index.has_skeleton(doc, sid) for sid in sids)


FIGURES_TOGETHER = 3  # this many figures of the post's news, all in one item ...
TOGETHER_MARGIN = 0.8  # ... (two: none of them in a rival) and no rival this close


def _figures_together(
    commentary: Commentary, index: MatchIndex, doc: int, rivals: Sequence[tuple[float, int]]
) -> bool:
    """Whether item ``doc`` has every figure of the post's news (its year apart), and the
    rivals (share of the best's score, doc) do not: each figure may be common ("12
    тысяч", "от 18 до 25 лет"), all of them in one item are its event.  Three or more:
    no rival may have more than one, nor come within OWN_MARGIN of it; two: no rival
    within TOGETHER_MARGIN may have either."""
    news = _news_text(commentary)
    figures = _figures_in(news, commentary.published.year)
    if len(figures) < 2 or not _quantities(figures, news):
        return False
    values = _item_values(index, doc)
    if not all(_has_value(index, doc, values, q) for q in figures):
        return False
    held = [
        sum(_has_value(index, r, _item_values(index, r), q) for q in figures) for _, r in rivals
    ]
    if len(figures) >= FIGURES_TOGETHER and all(share <= OWN_MARGIN for share, _ in rivals):
        return all(count <= 1 for count in held)
    return not any(held)


def _sentence_start(text: str, at: int) -> bool:
    before = text[:at].rstrip(' \t\u00a0«"„“(—–-')
    if _INITIAL.search(before):
        return False  # "Т. Сулейменов": an initial's period ends no sentence
    return not before or before[-1] in ".!?…:\n"


_INITIAL = re.compile(r"(?<!\w)[A-ZА-ЯЁӘҒҚҢӨҰҮҺІ]\.$")


def _similar_confidence(best: float, second: float) -> float:
    """One number for 'the best item is similar enough, and clearly the best'."""
    if best <= 0:
        return 0.0
    share = second / best
    strength = min(best / SIMILAR_SURE, (1 - share) / (1 - SIMILAR_MARGIN))
    if strength >= 1:
        return min(1.0, CONFIDENT + (1 - CONFIDENT) * min(1.0, (strength - 1) / 2))
    return CONFIDENT * max(strength, 0.0)


# --- every commentary against the store ----------------------------------------------


def match_all(
    commentary: Sequence[Commentary],
    storage: Storage,
    config: Config,
    *,
    index_of: Callable[[], MatchIndex] | None = None,
) -> dict[str, Match]:
    """Match every commentary (by ``Commentary.id``) against everything stored.

    References are looked up in the store first; the index (every item that is not a post
    of the house feed, oldest first) is only built when a commentary needs it -- or got
    from ``index_of`` (saved.py: the index kept between runs).
    """
    names = {s.id: s.name for s in config.published_sources()}
    nameable = may_name(config)
    resolve: dict[str, str] = {}
    unnameable: dict[str, str] = {}  # a reference to a stored item no source: may name: why
    for c in commentary:
        for reference in (*c.sources, *c.links):
            found = storage.get_item(reference.strip())
            url = reference_url(reference) if found is None else None
            if url is not None:
                found = storage.item_by_link(url)
            if found is not None and nameable(found):
                resolve[reference] = found.key
            elif found is not None:
                unnameable[reference] = why_unnameable(reference, found, config)
    index: MatchIndex | None = None
    matches: dict[str, Match] = {}
    by_id = {c.id: c for c in commentary}
    for c in commentary:
        refused = [unnameable[r] for r in c.sources if r in unnameable]
        if refused:
            matches[c.id] = Match(
                method="source", error=refused[0], note="the editor's source may not be named"
            )
            continue
        known = [r for r in c.sources if r in resolve]
        if c.sources and len(known) == len(c.sources):
            keys = tuple(dict.fromkeys(resolve[r] for r in c.sources))
            found = Match(keys, "source", 1.0, note="the editor's source:")
            if c.quotes:
                # Which quote is in which source: an index of these items alone says it.
                named = [s for s in map(storage.get_item, keys) if s is not None]
                found = _verified(found, c, MatchIndex.build(named))
            matches[c.id] = found
            continue
        if index is None and index_of is not None:
            index = index_of()
        if index is None:
            index = MatchIndex.build(filter(nameable, storage.iter_items(newest_first=False)))
        matches[c.id] = match_commentary(c, index, source_names=names, resolve=resolve)
    return {cid: _word_for_word(m, by_id[cid], storage) for cid, m in matches.items()}


def why_unnameable(reference: str, stored: StoredItem, config: Config) -> str:
    """What an editor reads where a ``source:`` names a stored item ``load.may_name``
    refuses, and what to do: it is stored, so "wait until it is fetched" would mislead."""
    # A source withheld for its house: key is held as a house feed: say which it is.
    withheld = [i for i in stored.source_ids if i in config.withheld]
    if withheld:
        return (
            f"source: {reference!r} is an item of {withheld[0]}, whose entry in feeds.yaml "
            "cannot say whether it is the house's own feed; mend its house: key (`aggregator "
            "check-config` says what is wrong), and its items may be named again"
        )
    house = [i for i in stored.source_ids if i in house_source_ids(config)]
    if house:
        return (
            f"source: {reference!r} is a post of the house's own feed ({house[0]}), not an "
            "agency's item; give the URL, id or key of the item it comments on"
        )
    removed = ", ".join(stored.source_ids)
    which = removed if len(stored.source_ids) == 1 else "one of them"
    return (
        f"source: {reference!r} is an item of {removed}, no longer in feeds.yaml: its items "
        f"stay stored but are published nowhere; add {which} back to feeds.yaml's sources, "
        "or give the URL, id or key of an item of a source it lists"
    )


def _word_for_word(match: Match, commentary: Commentary, storage: Storage) -> Match:
    """``match`` with a quote kept as the agency's words only where it is in its item word
    for word: each piece of it between "…" as the item has it (spaces apart).  A quote
    the editor reworded, reordered or re-punctuated still finds its item, but it is
    published as the house's text, crediting the item, not in «» as the agency's."""
    if not any(number >= 0 for number in match.quotes):
        return match
    numbers = []
    for key, number in zip(match.keys, match.quotes, strict=False):
        if number >= 0:
            stored = storage.get_item(key)
            if stored is None or not _in_item_text(commentary.quotes[number], stored):
                number = -1
        numbers.append(number)
    numbers += match.quotes[len(numbers) :]
    if tuple(numbers) == match.quotes:
        return match
    evidence = (*match.evidence, "a quote is reworded: published as the house's text")
    return replace(match, quotes=tuple(numbers), evidence=evidence)


_CUT = re.compile(r"…|\.{3,}|\[\s*\.\.\.\s*\]|\(\s*\.\.\.\s*\)")


def _in_item_text(quote: str, stored: StoredItem) -> bool:
    """Whether every piece of ``quote`` between cut marks ("…") is in the item's title or
    text as written (runs of spaces and the pieces' edge punctuation apart)."""
    item = stored.item
    text = "\n".join((item.title, plain_text(item.summary or ""), plain_text(item.content or "")))
    body = " ".join(text.split())
    pieces = [" ".join(piece.split()).strip(" .,;:") for piece in _CUT.split(quote)]
    return all(piece in body for piece in pieces if piece)
