"""Fit the calibrated score of a similarity match on the hand-written set's DEV posts
p001-p1914 (the dev halves of rounds 1-27), and measure "the rules, or the score" against
the rules alone, leave-one-round-out, nested (issue 10).

    .venv/bin/python benchmarks/matching/fit.py            # nested LORO table, final model
    .venv/bin/python benchmarks/matching/fit.py --fresh    # match again (not the cache)
    .venv/bin/python benchmarks/matching/fit.py --freeze   # also write calibrated_model.json
    .venv/bin/python benchmarks/matching/fit.py --check-from 515 --split all
        # a later round: the matcher against the rules, or the frozen score (fits nothing)

What is fitted: for every dev post that similarity decides (no `source:`, no link, no quote
found; a post whose quote is in no item is never confident and is left out) the evidence
on its best item (``match.similarity_features``, given by ``match_commentary(observe=)``),
labelled 1 when that item is the post's source (or an acceptable alternative).  Every such
post with a source is matched a second time with its event taken out of the store
(evaluate.py --withhold: its source, reprints and the other outlets' tellings); its best
item then is always wrong (label 0).  A logistic regression (L2, standardized features,
numpy, Newton's method) gives a probability.  What is measured is "the rules, or the
score": confident when a rule is sure, or when the score reaches the threshold, no guard
forbids it (``vetoed``) and the evidence leaves it something to decide
(``match.score_may_decide``).  Until the tenth session that was the matcher's decision;
from then to round 19 the score only marked the best item "likely" for the editor (fresh
rounds 9-11: it made another event of the topic confident as often as the source;
README.md, "the score publishes nothing"); since round 19 the frozen score decides again,
behind the guards of ``match.score_vetoed`` (README.md, "round 19").  This script is how
a later score would earn publishing: nested here, then on a round written after it.

The selection is explicit: dev posts numbered up to ``LAST_POST`` in the rounds of
``ROUNDS``; later posts (a later round, the test split) never change the fit.  Everything
(guards, feature set, penalty, the threshold's margin) is chosen on the rounds a fit
sees: per configuration, leave-one-round-out over them with each fold's threshold by an
inner leave-one-round-out (the most probable wrong best item the rules left open, plus
the margin).  The table scores each round by a procedure that chose everything on the
other rounds (nested).  The rules were tuned on rounds 1-8 and the matcher's score fitted
on rounds 1-7: their figures there are in-sample (round 8 was fresh to the score, round 9
to both when it came); the nested column is not.  Outcome: README.md, "Issue 10, round 9".
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
from real_set import MatchingSetUp, real_store

from aggregator.house import match_commentary
from aggregator.house.match import (
    SCORE_SURE,
    calibrated_score,
    rules_version,
    score_may_decide,
    score_vetoed,
)

LAST_POST = 1914
ROUNDS = (
    (1, 132), (133, 212), (213, 262), (263, 312), (313, 382), (383, 449), (450, 514),
    (515, 584), (585, 654), (655, 724), (725, 794),
    (795, 864), (865, 934), (935, 1004), (1005, 1074), (1075, 1144), (1145, 1214),
    (1215, 1284), (1285, 1354), (1355, 1424), (1425, 1494),
    (1495, 1564), (1565, 1634), (1635, 1704), (1705, 1774),
    (1775, 1844), (1845, 1914),
)  # fmt: skip
BACKGROUND = 3000
CACHE = Path("/tmp/matching-fit-observations.json")  # named by rules_version and background
FROZEN = Path(__file__).resolve().parent / "calibrated_model.json"  # fit.py --freeze


def round_of(post_id: str) -> int:
    """The post's round (1-23), or 0 for a post after them."""
    number = int(post_id[1:])
    return next((n for n, (low, high) in enumerate(ROUNDS, 1) if low <= number <= high), 0)


def selected(post: dict) -> bool:
    return post["split"] == "dev" and int(post["id"][1:]) <= LAST_POST


def observe_all(background: int, select=selected) -> list[dict]:
    """Per selected post (and per post with a source, again with its event withheld): how
    the rules decided and, where similarity decided, the evidence it weighed."""
    rows = []
    with real_store(background) as real:
        config, storage, posts, items = real.config, real.storage, real.posts, real.items
        setup = MatchingSetUp.of(config, storage, items)
        index, names, label_of = setup.index, setup.names, setup.label_of
        for post in posts:
            if not select(post):
                continue
            commentary = setup.commentary_of(post)
            if commentary is None:
                continue
            acceptable = set(post["expected"] or ()) | set(
                post.get("acceptable_alternatives") or ()
            )

            def one(kind: str, good: set[str], commentary=commentary, post=post) -> dict:
                seen: list[tuple[str, dict]] = []
                match = match_commentary(
                    commentary, index, source_names=names, observe=lambda k, f: seen.append((k, f))
                )
                top = label_of.get(match.keys[0], match.keys[0]) if match.keys else None
                row = {
                    "post": post["id"],
                    "round": round_of(post["id"]),
                    "kind": kind,
                    "sourced": bool(good),
                    "method": match.method,
                    "confident": match.confident,
                    "right": match.confident and top in good,
                }
                if seen:
                    key, features = seen[-1]
                    row["features"] = features
                    row["label"] = int(label_of.get(key, key) in good)
                return row

            rows.append(one("post", acceptable))
            if not post["expected"] or commentary.sources:
                continue
            with setup.withheld(post):
                rows.append(one("withheld", set()))
    return rows


# --- the model ---------------------------------------------------------------------------

FEATURE_SETS = {
    "all": (
        "best", "share", "raw_share", "native_share", "same", "shared", "distinct", "runner",
        "own", "facts", "shared_share", "shared_figures", "in_news", "news_figures",
        "unexplained", "figures_missing", "against", "days", "old", "whole_share", "title",
        "told_otherwise", "together",
    ),
    "core": (
        "best", "share", "native_share", "same", "distinct", "runner", "own", "shared_share",
        "shared_figures", "unexplained", "title",
    ),
    "together": (
        "best", "share", "native_share", "same", "distinct", "runner", "own", "shared_share",
        "shared_figures", "unexplained", "title", "together",
    ),
    "small": ("best", "share", "native_share", "same", "distinct", "own", "against", "old"),
}  # fmt: skip
PENALTIES = (1.0, 3.0, 10.0, 30.0, 100.0)
GUARDS = ("evidence", "basic", "none")
# the threshold sits this far above the most probable wrong best item the rules left open
MARGINS = (0.02, 0.05, 0.1)


def transform(features: dict, names: tuple[str, ...]) -> list[float]:
    """The features as the model reads them: counts and scores as they are, the days
    between post and item clipped to -1..8."""
    out = []
    for name in names:
        value = float(features[name])
        if name == "days":
            value = min(max(value, -1.0), 8.0)
        out.append(value)
    return out


def fit(x: np.ndarray, y: np.ndarray, penalty: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(means, scales, weights with the intercept last) of an L2 logistic regression, by
    Newton's method on standardized features."""
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    w = np.zeros(z.shape[1])
    ridge = np.full(z.shape[1], penalty)
    ridge[-1] = 0.0
    for _ in range(100):
        p = 1 / (1 + np.exp(-(z @ w)))
        gradient = z.T @ (p - y) + ridge * w
        hessian = (z * (p * (1 - p))[:, None]).T @ z + np.diag(ridge) + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-10:
            break
    return mean, scale, w


def predict(model, x: np.ndarray) -> np.ndarray:
    mean, scale, w = model
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    return 1 / (1 + np.exp(-(z @ w)))


def fitted(rows: list[dict], names, penalty: float):
    return fit(
        np.array([transform(r["features"], names) for r in rows]),
        np.array([r["label"] for r in rows], dtype=float),
        penalty,
    )


def out_of_round(rows: list[dict], names, penalty: float, rounds) -> dict[int, float]:
    """Each scored row's probability from a model fitted on the other rounds (of ``rounds``)."""
    scored = {}
    for held in rounds:
        train = [r for r in rows if r["round"] != held and r["round"] in rounds]
        test = [(i, r) for i, r in enumerate(rows) if r["round"] == held]
        if not test:
            continue
        model = fitted(train, names, penalty)
        probabilities = predict(model, np.array([transform(r["features"], names) for _, r in test]))
        scored.update({i: float(p) for (i, _), p in zip(test, probabilities, strict=True)})
    return scored


def threshold(rows: list[dict], scored: dict[int, float], margin: float) -> float:
    """``margin`` above the most probable scored row whose best item is wrong and which the
    rules left open (what the rules make confident the score does not decide)."""
    wrong = [p for i, p in scored.items() if rows[i]["label"] == 0 and not rules_sure(rows[i])]
    return min(0.99, max(wrong, default=0.0) + margin)


def vetoed(features: dict, guards: str = "basic") -> bool:
    """The guards kept as rules, whatever the score.  "basic" (the matcher's,
    ``match.score_vetoed``): a rival about as similar; the post gives the item's figures
    otherwise, says it repeats it or sets it beside its news; the item is older than
    ``match.SURE_WITHIN``; an item in another language has none of the post's
    figures.  "evidence" adds: a rival has as many of the post's names and figures; the
    item has nothing of the post's event.  (Whatever the guards, the score decides only
    where ``match.score_may_decide``, which holds these two: "evidence" also leaves them
    out of the fit, "basic" and "none" fit on them.)"""
    if guards == "none":
        return False
    basic = score_vetoed(features)
    if basic or guards == "basic":
        return basic
    tie = features["distinct"] <= 0 and features["runner"] >= 1
    return bool(tie or not (features["shared"] or features["own"] or features["together"]))


def rules_sure(row: dict) -> bool:
    """Whether the matcher's rules alone made the row's best item confident."""
    return bool(row["features"]["rules"])


def decide(row: dict, probability: float | None, cut: float, guards: str) -> tuple[bool, bool]:
    """(confident, right) of a row under "the rules, or the score": confident when the
    rules are, or when no guard forbids it, the evidence leaves the score something to
    decide (``match.score_may_decide``) and the score reaches ``cut`` (rows similarity did
    not decide keep the rules' outcome)."""
    if "features" not in row:
        return row["confident"], row["right"]
    features = row["features"]
    confident = rules_sure(row) or (
        probability is not None
        and probability >= cut
        and not vetoed(features, guards)
        and score_may_decide(features)
    )
    return confident, confident and bool(row["label"])


def rules_outcome(i: int, row: dict) -> tuple[bool, bool]:
    """(confident, right) of a row as the matcher's rules alone decided it."""
    if "features" in row:
        confident = rules_sure(row)
        return confident, confident and bool(row["label"])
    return row["confident"], row["right"]


def model_outcome(scored, cuts, guards: str, i: int, row: dict) -> tuple[bool, bool]:
    return decide(row, scored.get(i), cuts.get(row["round"], 1.0), guards)


def matcher_outcome(i: int, row: dict) -> tuple[bool, bool]:
    """(confident, right) of a row as the matcher decided it (the rules or its score)."""
    return row["confident"], row["right"]


def table(rows: list[dict], outcome) -> dict[int, dict[str, int]]:
    """Per round: posts with a source and right, confident wrong (posts and withheld),
    no-match posts with nothing confident."""
    per = {n: defaultdict(int) for n in range(1, len(ROUNDS) + 1)}
    for i, row in enumerate(rows):
        confident, right = outcome(i, row)
        t = per[row["round"]]
        if row["kind"] == "post" and row["sourced"]:
            t["sourced"] += 1
            t["right"] += right
        if row["kind"] == "post" and not row["sourced"]:
            t["nomatch"] += 1
            t["nomatch_right"] += not confident
        if row["kind"] == "withheld":
            t["withheld"] += 1
        t["wrong"] += confident and not right
    return per


def scorable(row: dict, guards: str) -> bool:
    return "features" in row and not vetoed(row["features"], guards)


def loro(
    rows: list[dict], names, penalty: float, guards: str, margin: float, rounds: tuple[int, ...]
) -> tuple[dict[int, float], dict[int, float]]:
    """Leave-one-round-out over ``rounds``: per row (its place in ``rows``) its
    probability from a model fitted on the other rounds, per round its threshold (chosen
    by a leave-one-round-out on those other rounds)."""
    scorable_rows = [i for i, r in enumerate(rows) if r["round"] in rounds and scorable(r, guards)]
    sub = [rows[i] for i in scorable_rows]
    outer = out_of_round(sub, names, penalty, rounds)
    cuts = {}
    for held in rounds:
        training = tuple(n for n in rounds if n != held)
        cuts[held] = threshold(sub, out_of_round(sub, names, penalty, training), margin)
    return {scorable_rows[i]: p for i, p in outer.items()}, cuts


def configurations() -> list[tuple[str, str, float, float]]:
    return [
        (guards, set_name, penalty, margin)
        for guards in GUARDS
        for set_name in FEATURE_SETS
        for penalty in PENALTIES
        for margin in MARGINS
    ]


def totals(per: dict[int, dict[str, int]], rounds) -> tuple[int, int]:
    return sum(per[n]["right"] for n in rounds), sum(per[n]["wrong"] for n in rounds)


def choose(rows: list[dict], rounds: tuple[int, ...], verbose: bool = False):
    """The configuration (guards, feature set, penalty, margin) whose "rules, or the
    score" does best leave-one-round-out over ``rounds``: no more confident-wrong than
    the rules there, then the most right, then the most cautious (the widest margin, the
    strongest penalty, the fewest features)."""
    allowed = totals(table(rows, rules_outcome), rounds)[1]
    best = None
    for guards, set_name, penalty, margin in configurations():
        scored, cuts = loro(rows, FEATURE_SETS[set_name], penalty, guards, margin, rounds)
        per = table(rows, functools.partial(model_outcome, scored, cuts, guards))
        right, wrong = totals(per, rounds)
        key = (wrong > allowed, -right, wrong, -margin, -penalty, len(FEATURE_SETS[set_name]))
        if verbose:
            print(f"  {guards:<8} {set_name:<9} penalty {penalty:>5} margin {margin:.2f}: "
                  f"LORO right {right}, wrong {wrong}")  # fmt: skip
        if best is None or key < best[0]:
            best = (key, (guards, set_name, penalty, margin))
    return best[1]


def final(rows: list[dict], rounds: tuple[int, ...]):
    """The configuration chosen on ``rounds``, its model fitted on all their rows and its
    threshold chosen leave-one-round-out over them: (guards, names, penalty, model, cut)."""
    guards, set_name, penalty, margin = choose(rows, rounds)
    names = FEATURE_SETS[set_name]
    train = [r for r in rows if r["round"] in rounds and scorable(r, guards)]
    model = fitted(train, names, penalty)
    cut = threshold(train, out_of_round(train, names, penalty, rounds), margin)
    return guards, set_name, penalty, margin, model, cut


def nested(rows: list[dict]) -> tuple[dict[int, dict[str, int]], dict]:
    """The whole procedure (configuration, fit, threshold) leave-one-round-out: for each
    round, everything is chosen on the other rounds and the round is scored once."""
    rounds = tuple(range(1, len(ROUNDS) + 1))
    decided: dict[int, tuple[bool, bool]] = {}
    chosen: dict = {}
    for held in rounds:
        guards, set_name, penalty, margin, model, cut = final(
            rows, tuple(n for n in rounds if n != held)
        )
        names = FEATURE_SETS[set_name]
        chosen[held] = (guards, set_name, penalty, margin, cut)
        for i, row in enumerate(rows):
            if row["round"] != held:
                continue
            probability = None
            if scorable(row, guards):
                probability = float(
                    predict(model, np.array([transform(row["features"], names)]))[0]
                )
            decided[i] = decide(row, probability, cut, guards)
    per = table(rows, lambda i, row: decided[i])
    for i, (confident, right) in sorted(decided.items()):
        if confident and not right:
            chosen.setdefault("wrong", []).append(f"{rows[i]['post']} ({rows[i]['kind']})")
        if right and not rules_outcome(i, rows[i])[1]:
            chosen.setdefault("gained", []).append(f"{rows[i]['post']} ({rows[i]['kind']})")
        if not right and rules_outcome(i, rows[i])[1]:
            chosen.setdefault("lost", []).append(f"{rows[i]['post']} ({rows[i]['kind']})")
    return per, chosen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fresh", action="store_true", help="match again (not the cache)")
    parser.add_argument("--background", type=int, default=BACKGROUND)
    parser.add_argument(
        "--freeze", action="store_true", help=f"write the final model to {FROZEN.name}"
    )
    parser.add_argument(
        "--check-from",
        type=int,
        metavar="N",
        help="posts numbered N and later: the matcher (the rules) against the rules, or the "
        "frozen score; fits nothing: a fresh round's check",
    )
    parser.add_argument("--split", default="dev", help="with --check-from: dev, test or all")
    parser.add_argument("-v", "--verbose", action="store_true", help="every configuration")
    args = parser.parse_args()
    if args.check_from:
        return check(args.check_from, args.split, args.background)
    cache = CACHE.with_name(f"{CACHE.stem}-{rules_version()}-{args.background}.json")
    if cache.exists() and not args.fresh:
        rows = json.loads(cache.read_text())
    else:
        rows = observe_all(args.background)
        cache.write_text(json.dumps(rows))
    decided = [r for r in rows if "features" in r]
    print(
        f"{len(rows)} rows ({sum(r['kind'] == 'post' for r in rows)} dev posts p001-p{LAST_POST}, "
        f"{sum(r['kind'] == 'withheld' for r in rows)} withheld); similarity decided "
        f"{len(decided)}, right item first {sum(r['label'] for r in decided)}"
    )
    misses = [
        r
        for i, r in enumerate(rows)
        if r["kind"] == "post" and r["sourced"] and not rules_outcome(i, r)[1]
    ]
    first = sum(1 for r in misses if r.get("label"))
    print(
        f"posts with a source the rules alone miss: {len(misses)}; similarity decided "
        f"{sum('features' in r for r in misses)}, the right item ranked first in {first}"
    )
    rounds = tuple(range(1, len(ROUNDS) + 1))
    if args.verbose:
        choose(rows, rounds, verbose=True)
    rules, matcher = table(rows, rules_outcome), table(rows, matcher_outcome)
    inner, chosen = nested(rows)
    print(
        '\nnested leave-one-round-out: each round decided by "the rules, or the score" with'
        "\neverything (guards, features, penalty, margin, fit, threshold) chosen on the others;"
        '\n"matcher" is what aggregator/house decides now (the rules, or the frozen score):'
    )
    print(
        f"{'round':<7}{'w/ source':>10}{'rules right':>12}{'nested right':>13}"
        f"{'rules wrong':>12}{'nested wrong':>13}{'no-match ok r/n':>16}{'matcher r/w':>12}"
        "  chosen"
    )
    for n in rounds:
        r, m, now = rules[n], inner[n], matcher[n]
        guards_n, set_n, penalty_n, margin_n, cut_n = chosen[n]
        nomatch = f"{r['nomatch_right']}/{m['nomatch_right']} of {r['nomatch']}"
        print(
            f"r{n:<6}{r['sourced']:>10}{r['right']:>12}{m['right']:>13}{r['wrong']:>12}"
            f"{m['wrong']:>13}{nomatch:>16}{now['right']:>7}/{now['wrong']}"
            f"  {guards_n}, {set_n}, {penalty_n}, {margin_n}, cut {cut_n:.3f}"
        )
    (right, wrong), (nested_right, nested_wrong) = totals(rules, rounds), totals(inner, rounds)
    now_right, now_wrong = totals(matcher, rounds)
    print(
        f"{'all':<7}{sum(t['sourced'] for t in rules.values()):>10}{right:>12}{nested_right:>13}"
        f"{wrong:>12}{nested_wrong:>13}{'':>16}{now_right:>7}/{now_wrong}"
    )
    for what in ("gained", "lost", "wrong"):
        print(f"  {what} (nested): {', '.join(chosen.get(what, [])) or '-'}")

    guards, set_name, penalty, margin, model, cut = final(rows, rounds)
    names = FEATURE_SETS[set_name]
    scored = sum(1 for r in rows if scorable(r, guards))
    print(
        f"\nfinal, chosen and fitted on all {len(rounds)} rounds ({scored} decisions): guards "
        f"{guards}, features {set_name!r}, penalty {penalty}, margin {margin}, threshold {cut:.3f}"
    )
    mean, scale, w = model
    for name, m, s, c in zip(names, mean, scale, w, strict=False):
        print(f"  {name:<16} mean {m:8.3f} scale {s:8.3f} weight {c:+.3f}")
    print(f"  intercept {w[-1]:+.3f}")
    frozen = {
        "fitted_on": f"dev posts p001-p{LAST_POST}, {scored} decisions",
        "guards": guards,
        "penalty": penalty,
        "margin": margin,
        "features": list(names),
        "mean": mean.tolist(),
        "scale": scale.tolist(),
        "weights": w[:-1].tolist(),
        "intercept": float(w[-1]),
        "threshold": round(cut, 3),
    }
    print("\nmatch.py's SCORE (the weights per standardized feature):")
    print(
        "    "
        + ",\n    ".join(
            f"({n!r}, {m:.6g}, {s:.6g}, {c:+.6g})"
            for n, m, s, c in zip(names, mean, scale, w, strict=False)
        )
        + f"\n    intercept {w[-1]:+.6g}, threshold {cut:.3f}"
    )
    if args.freeze:
        FROZEN.write_text(json.dumps(frozen, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {FROZEN}")
    return 0


def check(first: int, split: str, background: int) -> int:
    """Posts numbered ``first`` and later (of ``split``), matched as the matcher decides
    (the rules, or the frozen score, since round 19) and as "the rules, or the frozen score"
    (calibrated_model.json, the matcher's decision until the tenth session) would: nothing
    is fitted, so a round written after the score was fitted is a fresh test of both."""

    def chosen(post: dict) -> bool:
        return int(post["id"][1:]) >= first and split in ("all", post["split"])

    def scored_outcome(i: int, row: dict) -> tuple[bool, bool]:
        if "features" not in row:
            return row["confident"], row["right"]
        return decide(row, calibrated_score(row["features"]), SCORE_SURE, "basic")

    rows = observe_all(background, chosen)
    print(
        f"posts p{first:03d} and later ({split}): {sum(r['kind'] == 'post' for r in rows)}, "
        f"withheld runs {sum(r['kind'] == 'withheld' for r in rows)}"
    )
    rounds = sorted({row["round"] for row in rows})
    groups = [(f"round {n}" if n else "after the rounds", n) for n in rounds]
    for name, n in groups + ([("all", None)] if len(groups) > 1 else []):
        group = [dict(row, round=1) for row in rows if n is None or row["round"] == n]
        print(f" {name}:")
        for label, outcome in (
            ("rules alone", rules_outcome),
            ("matcher (the rules, or the frozen score: round 19)", matcher_outcome),
            ("the rules, or the frozen score (until the tenth session)", scored_outcome),
        ):
            t = table(group, outcome)[1]  # one group: the table's first line
            print(
                f"  {label}: posts with a source right {t['right']}/{t['sourced']}, confident "
                f"wrong {t['wrong']}, no-match posts without a confident match "
                f"{t['nomatch_right']}/{t['nomatch']}"
            )
    for i, row in enumerate(rows):
        ours, theirs = matcher_outcome(i, row), scored_outcome(i, row)
        if ours != theirs:
            print(
                f"    {row['post']} ({row['kind']}): matcher {ours}, with the score {theirs} "
                "(confident, right)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
