"""A study of candidate evidence on the DEV posts (issue 10, round 16): what separates a
right best item the rules leave open from the best item of a no-match post, of a post
whose best is another item, and of a post matched with its event withheld.

    .venv/bin/python benchmarks/matching/study.py            # per-feature table, LORO
    .venv/bin/python benchmarks/matching/study.py --dump F   # the rows as JSON

Every dev post of fit.py's rounds that similarity decides, and each again with its event
withheld (fit.py's rows), with extra evidence on its best item and its runner-up:
``passages`` (the share of the post's news sentences with a counterpart passage in the
item), ``lead`` (the share of the item's lead the post tells), ``dates`` (the post's
relative dates against the item's day), whether every figure of the news is in it, and
(round 17) ``exclusive``: the stems of the news the item alone has in the post's date
window (its reprints apart), by idf weight, their count and margin over the runner-up's;
and, for the items with every figure of the news, how many days older than the post the
right and the wrong ones are (``ages``).
Each evidence is judged leave-one-round-out: per round, the threshold that admits no
wrong best item of the other rounds (those a guard holds apart), applied to the round.
Reads no test post.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from fit import round_of, selected
from real_set import MatchingSetUp, real_store

from aggregator.house import match_commentary
from aggregator.house.index import WINDOW_AFTER, WINDOW_BEFORE, MatchIndex, words
from aggregator.house.load import Commentary
from aggregator.house.match import _figures_in, _news_text, _quantities

# --- the candidate evidence ---------------------------------------------------------

WINDOW = 25  # an item's passage: this many words in a row (a sentence and a bit)
_SENTENCE = re.compile(r"(?<=[.!?…])\s+|\n+")
_LOCAL = timezone(timedelta(hours=5))


def _sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE.split(text) if s.strip()]


def _best_passage(weights: dict[int, float], seq, window: int = WINDOW) -> float:
    """The largest share of ``weights`` (stem -> weight) found within ``window`` words in a
    row of ``seq`` (an item's stem ids)."""
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    hits = [(at, stem) for at, stem in enumerate(seq) if stem in weights]
    best = 0.0
    counts: dict[int, int] = {}
    have = 0.0
    start = 0
    for at, stem in hits:
        counts[stem] = counts.get(stem, 0) + 1
        if counts[stem] == 1:
            have += weights[stem]
        while hits[start][0] <= at - window:
            old = hits[start][1]
            counts[old] -= 1
            if not counts[old]:
                have -= weights[old]
            start += 1
        best = max(best, have)
    return best / total


def sentence_scores(text: str, index: MatchIndex, doc: int) -> list[tuple[float, float]]:
    """Per sentence of ``text`` with three content words or more: (its weight, the share of
    it in the item's best passage)."""
    seq = index._seq(doc)
    out = []
    for sentence in _sentences(text):
        weights = index._weights(words(sentence))
        if len(weights) < 3:
            continue
        out.append((sum(weights.values()), _best_passage(weights, seq)))
    return out


def lead_told(text: str, index: MatchIndex, doc: int, size: int = 30) -> float:
    """The weighted share of the item's lead (its first ``size`` body words) in ``text``."""
    seq = index._seq(doc)
    body = list(seq)
    if -1 in body:
        body = body[body.index(-1) + 1 :]
    lead = [s for s in body[:size] if s >= 0 and s not in index._stop_stems]
    if not lead:
        return 0.0
    n = max(len(index), 1)
    weights = {
        s: math.log((n - len(index._postings[s]) + 0.5) / (len(index._postings[s]) + 0.5) + 1)
        for s in set(lead)
    }
    have = set(index._known(words(text)))
    return sum(w for s, w in weights.items() if s in have) / sum(weights.values())


_WEEKDAYS = {
    # Russian (stems), Kazakh, English: Monday = 0
    "понедельник": 0, "вторник": 1, "сред": 2, "четверг": 3, "пятниц": 4, "суббот": 5,
    "воскресень": 6,
    "дүйсенбі": 0, "сейсенбі": 1, "сәрсенбі": 2, "бейсенбі": 3, "жұма": 4, "сенбі": 5,
    "жексенбі": 6,
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5,
    "sunday": 6,
}  # fmt: skip
_RELATIVE = {
    "вчера": -1, "накануне": -1, "позавчера": -2, "сегодня": 0, "кеше": -1, "бүгін": 0,
    "yesterday": -1, "today": 0,
}  # fmt: skip
_WEEKDAY = re.compile(
    r"(?<!\w)(?:в|во|on|last)?\s*(?:минувш\w+\s+|прошл\w+\s+)?("
    r"понедельник|вторник|сред[уы]|четверг|пятниц[уы]|суббот[уы]|воскресень[ея]|"
    r"дүйсенбі|сейсенбі|сәрсенбі|бейсенбі|жұма|сенбі|жексенбі|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday)",
    re.IGNORECASE,
)
_DAY_WORD = re.compile(
    r"(?<!\w)(вчера|накануне|позавчера|сегодня|кеше|бүгін|yesterday|today)(?!\w)", re.IGNORECASE
)


def post_days(commentary: Commentary, text: str) -> list[datetime]:
    """The days the post's ``text`` names relative to its own date (local time)."""
    today = commentary.published.astimezone(_LOCAL).date()
    days = []
    for m in _DAY_WORD.finditer(text):
        days.append(today + timedelta(days=_RELATIVE[m.group(1).lower()]))
    for m in _WEEKDAY.finditer(text):
        word = m.group(1).lower()
        weekday = next(v for k, v in _WEEKDAYS.items() if word.startswith(k))
        back = (today.weekday() - weekday) % 7
        days.append(today - timedelta(days=back))
    return days


def _idf(index: MatchIndex, stem: int) -> float:
    n = max(len(index), 1)
    df = len(index._postings[stem])
    return math.log((n - df + 0.5) / (df + 0.5) + 1)


def window_docs(index: MatchIndex, stem: int, commentary: Commentary) -> set[int]:
    """The items of the post's date window (a week before it to a day after) having
    ``stem``."""
    since = (commentary.published - WINDOW_BEFORE).timestamp()
    until = (commentary.published + WINDOW_AFTER).timestamp()
    docs = {p >> 4 for p in index._postings[stem]}
    return {d for d in docs if since <= index.time_of(d) <= until}


def exclusive(text: str, index: MatchIndex, doc: int, commentary: Commentary) -> dict:
    """The stems of ``text`` item ``doc`` has that no other item of the window has (its
    reprints apart): their idf weight, its share of the weight of the text's stems the
    item has, and their number; and the same for those in at most one other item."""
    stems = {s for s in index._known(words(text)) if s >= 0 and s not in index._stop_stems}
    have = set(index._seq(doc))
    mine = [s for s in stems if s in have]
    only, few = [], []
    for s in mine:
        others = {d for d in window_docs(index, s, commentary) if d != doc}
        others = {d for d in others if not index.same_text(doc, d)}
        if not others:
            only.append(s)
        if len(others) <= 1:
            few.append(s)
    total = sum(_idf(index, s) for s in mine) or 1.0
    weight = sum(_idf(index, s) for s in only)
    return {
        "weight": weight,
        "share": weight / total,
        "count": float(len(only)),
        "few_weight": sum(_idf(index, s) for s in few),
        "names": sorted(index._stem_names[s] for s in only),
    }


def evidence_of(commentary: Commentary, index: MatchIndex, doc: int, rival: int | None) -> dict:
    news = _news_text(commentary)
    out = {}
    mine = exclusive(news, index, doc, commentary)
    out["e_excl_w"] = mine["weight"]
    out["e_excl_share"] = mine["share"]
    out["e_excl_n"] = mine["count"]
    out["e_few_w"] = mine["few_weight"]
    out["excl_names"] = mine["names"]
    theirs = exclusive(news, index, rival, commentary) if rival is not None else None
    out["e_excl_margin"] = mine["weight"] - (theirs["weight"] if theirs else 0.0)
    out["e_nq"] = float(len(_quantities(_figures_in(news, commentary.published.year), news)))
    for name, d in (("best", doc), ("rival", rival)):
        if d is None:
            out[f"e_sent_{name}"] = 0.0
            out[f"e_told_{name}"] = 0.0
            out[f"e_lead_{name}"] = 0.0
            continue
        scores = sentence_scores(news, index, d)
        total = sum(w for w, _ in scores) or 1.0
        out[f"e_sent_{name}"] = sum(w * s for w, s in scores) / total
        out[f"e_told_{name}"] = sum(w for w, s in scores if s >= 0.5) / total
        out[f"e_lead_{name}"] = lead_told(news, index, d)
    out["e_passages"] = out["e_sent_best"]
    out["e_sent_margin"] = out["e_sent_best"] - out["e_sent_rival"]
    out["e_told_margin"] = out["e_told_best"] - out["e_told_rival"]
    out["e_lead_margin"] = out["e_lead_best"] - out["e_lead_rival"]
    body = news
    if commentary.title and body.startswith(commentary.title):
        body = body[len(commentary.title) :]
    scores = sentence_scores(body, index, doc)
    out["e_min_sent"] = min((sc for _, sc in scores), default=1.0)
    out["e_low_sent"] = float(sum(1 for _, sc in scores if sc < 0.2))
    out["e_n_sent"] = float(len(scores))
    out["sent_list"] = [round(sc, 2) for _, sc in scores]
    days = post_days(commentary, news)
    item_day = datetime.fromtimestamp(index.time_of(doc), UTC).astimezone(_LOCAL).date()
    agree = [d for d in days if 0 <= (item_day - d).days <= 1]
    out["e_dates"] = float(len(days))
    out["e_dates_agree"] = float(bool(agree)) - float(bool(days) and not agree)
    return out


# --- the rows ------------------------------------------------------------------------


def observe(background: int) -> list[dict]:
    rows = []
    with real_store(background) as real:
        setup = MatchingSetUp.of(real.config, real.storage, real.items)
        index, names, label_of = setup.index, setup.names, setup.label_of
        for post in real.posts:
            if not selected(post):
                continue
            commentary = setup.commentary_of(post)
            if commentary is None or commentary.sources:
                continue
            good = set(post["expected"] or ()) | set(post.get("acceptable_alternatives") or ())

            def one(kind: str, good: set[str], commentary=commentary, post=post) -> dict | None:
                seen = []
                match = match_commentary(
                    commentary, index, source_names=names, observe=lambda k, f: seen.append((k, f))
                )
                if not seen:
                    return None
                key, features = seen[-1]
                doc = index.doc_of(key)
                rival = next(
                    (
                        index.doc_of(k)
                        for k, _ in match.candidates
                        if k != key and not index.same_text(doc, index.doc_of(k))
                    ),
                    None,
                )
                row = {
                    "post": post["id"],
                    "round": round_of(post["id"]),
                    "kind": kind,
                    "category": post["category"],
                    "sourced": bool(good),
                    "best": label_of.get(key, key),
                    "label": int(label_of.get(key, key) in good),
                    "confident": match.confident,
                    "features": features,
                    "note": match.note,
                }
                row.update(evidence_of(commentary, index, doc, rival))
                return row

            for row in (one("post", good),):
                if row:
                    rows.append(row)
            if not post["expected"] or commentary.sources:
                continue
            with setup.withheld(post):
                row = one("withheld", set())
                if row:
                    rows.append(row)
    return rows


GUARDS = ("against", "old", "elsewhere", "figures_missing", "foreign_more")
EVIDENCE = {
    # name: (what it is, the value a row has; higher is more for the item)
    "passages": "share of the news's sentences' weight in one passage of the item (mean)",
    "told": "share of the news's sentences with half their weight in one passage",
    "lead": "share of the item's lead the news tells",
    "passage margin": "passages of the best minus the runner-up's",
    "dates": "the post's relative dates name the item's day (1), another (-1), none (0)",
    "figures": "every figure of the news in the item (one at least) and a fact shared (0/1)",
    "exclusive": "idf weight of the news's stems the item alone has in the window",
    "excl share": "that weight's share of the news's stems the item has",
    "excl count": "how many stems of the news the item alone has in the window",
    "excl margin": "exclusive weight of the best minus the runner-up's",
    "few": "idf weight of the news's stems in the item and at most one other of the window",
}


def value(row: dict, name: str) -> float:
    f = row["features"]
    if name == "figures":
        return float(f["shared"] >= 1 and f["news_figures"] >= 1 and not f["unexplained"])
    key = {"passages": "e_sent_best", "told": "e_told_best", "lead": "e_lead_best",
           "passage margin": "e_sent_margin", "dates": "e_dates_agree",
           "exclusive": "e_excl_w", "excl share": "e_excl_share", "excl count": "e_excl_n",
           "excl margin": "e_excl_margin", "few": "e_few_w"}[name]  # fmt: skip
    return row[key]


def guarded(row: dict) -> bool:
    """Held by a rule weighed after the rules (figures told otherwise, a repeat, older than
    ``match.SURE_WITHIN``, most of the news's figures missing, a foreign item with more
    facts)."""
    return any(row["features"].get(g) for g in GUARDS)


def loro(rows: list[dict], name: str) -> tuple[int, int, dict[int, float]]:
    """Per round, the lowest threshold at which no wrong best item of the other rounds (not
    held by a guard) is admitted; (right-open admitted, wrong admitted) on the held-out
    rounds, and each round's threshold."""
    rounds = sorted({r["round"] for r in rows})
    right = wrong = 0
    cuts = {}
    for held in rounds:
        others = [r for r in rows if r["round"] != held and not guarded(r)]
        worst = max((value(r, name) for r in others if not r["label"]), default=-1.0)
        cut = cuts[held] = worst + 1e-9
        for r in rows:
            if r["round"] != held or guarded(r) or value(r, name) < cut:
                continue
            if r["label"] and not r["confident"]:
                right += 1
            elif not r["label"]:
                wrong += 1
    return right, wrong, cuts


def report(rows: list[dict]) -> None:
    positives = [r for r in rows if r["label"] and not r["confident"]]
    negatives = [r for r in rows if not r["label"]]
    print(
        f"{len(rows)} rows (similarity decided); right best item the rules leave open: "
        f"{len(positives)}; wrong best item: {len(negatives)} "
        f"({sum(r['kind'] == 'withheld' for r in negatives)} withheld runs, "
        f"{sum(r['kind'] == 'post' and not r['sourced'] for r in negatives)} no-match posts, "
        f"{sum(r['kind'] == 'post' and r['sourced'] for r in negatives)} another item first)"
    )
    print(
        f"\n{'evidence':16} {'open right: median':>18} {'wrong: median':>14} {'p90':>6} {'max':>6}"
        f" {'wrong unguarded max':>20} {'LORO right/wrong':>17}"
    )
    for name in EVIDENCE:
        a = sorted(value(r, name) for r in positives)
        b = sorted(value(r, name) for r in negatives)
        c = sorted(value(r, name) for r in negatives if not guarded(r))
        right, wrong, _ = loro(rows, name)
        print(
            f"{name:16} {a[len(a) // 2]:18.2f} {b[len(b) // 2]:14.2f} {b[int(len(b) * 0.9)]:6.2f}"
            f" {b[-1]:6.2f} {c[-1]:20.2f} {f'{right}/{wrong}':>17}"
        )
    print("\nright best items left open, per evidence:")
    for r in positives:
        shown = " ".join(f"{n.split()[0][:8]}={value(r, n):.2f}" for n in EVIDENCE)
        held = ",".join(g for g in GUARDS if r["features"].get(g))
        print(f"  {r['post']} r{r['round']} {r['best']}: {shown} {held}")
    print("\nwrong best items with every figure of the news and a shared fact:")
    for r in negatives:
        if value(r, "figures"):
            held = ",".join(g for g in GUARDS if r["features"].get(g)) or "NOTHING"
            print(
                f"  {r['post']}{'w' if r['kind'] == 'withheld' else ''} {r['best']}: held by {held}"
            )


def ages(rows: list[dict]) -> None:
    """Per round, how many days the items with every figure of the news and a shared fact
    are older than their post: the right ones (the most), the wrong ones (the least).
    No margin backs that rule ("whatever the margin"): the age is what tells the story's
    earlier report, which has the figures its next stage repeats, from the source."""
    told = [r for r in rows if value(r, "figures") and r["e_nq"] >= 1]
    print("\nevery figure of the news (a quantity among them) and a shared fact: days older")
    print(f"{'round':>5} {'right':>6} {'max days':>9} {'wrong':>6} {'min days':>9}  wrong")
    for held in sorted({r["round"] for r in rows}):
        right = [r["features"]["days"] for r in told if r["round"] == held and r["label"]]
        wrong = [r for r in told if r["round"] == held and not r["label"]]
        days = [r["features"]["days"] for r in wrong]
        names = " ".join(f"{r['post']}{'w' if r['kind'] == 'withheld' else ''}" for r in wrong)
        print(
            f"{held:>5} {len(right):>6} {max(right, default=0):>9.1f} {len(wrong):>6}"
            f" {min(days, default=0):>9.1f}  {names}"
        )
    inside = [r["features"]["days"] for r in told if r["label"] and not r["features"]["old"]]
    print(f"  right, not older than SURE_WITHIN: at most {max(inside, default=0):.1f} days older")


def margin_rules(row: dict) -> list[str]:
    """The same-language rules with a margin over the runner-up whose conditions the best
    item meets, read from its evidence (as ``match._sure_rule`` states them; before the
    guards weighed after the rules)."""
    f = row["features"]
    best, share, distinct = f["best"], f["share"], f["distinct"]
    if not f["same"]:
        return []
    found = []
    if best >= 0.22 and share <= 0.5:
        found.append("far")
    if best >= 0.15 and share <= 0.3 and ((distinct >= 1 and f.get("in_news")) or best >= 0.2):
        found.append("clear")
    if best >= 0.13 and ((distinct >= 3 and share <= 0.8) or (distinct >= 2 and share <= 0.6)):
        found.append("agree")
    if best >= 0.10 and f["own"] >= 3 and share <= 0.5 and 2 * f["shared"] >= f["facts"]:
        found.append("rare")
    return found


def margins(rows: list[dict]) -> None:
    """Per round, the wrong best items a rule with a margin would be sure of, and the
    guards that hold them (one guard alone: a thin margin), with their age in days."""
    print("\nwrong best items a same-language rule with a margin meets, and what holds them")
    for held in sorted({r["round"] for r in rows}):
        met = [r for r in rows if r["round"] == held and not r["label"] and margin_rules(r)]
        shown = [
            f"{r['post']}{'w' if r['kind'] == 'withheld' else ''}"
            f"({'+'.join(margin_rules(r))}: "
            f"{'+'.join(g for g in GUARDS if r['features'].get(g)) or 'NOTHING'}, "
            f"{r['features']['days']:.1f} d)"
            for r in met
        ]
        if shown:
            print(f"  r{held}: {' '.join(shown)}")
    right = [r["features"]["days"] for r in rows if r["label"] and r["confident"]]
    print(f"  right confident runs: {len(right)}, at most {max(right, default=0):.2f} days older")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--background", type=int, default=3000)
    parser.add_argument("--dump", help="write the rows as JSON")
    parser.add_argument("--load", help="read the rows from --dump's JSON")
    args = parser.parse_args()
    rows = json.loads(Path(args.load).read_text()) if args.load else observe(args.background)
    if args.dump:
        Path(args.dump).write_text(json.dumps(rows, ensure_ascii=False))
    report(rows)
    ages(rows)
    margins(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
