"""Fit a calibrated score of a similarity match on the hand-written set's DEV posts
p001-p449, and compare it with the matcher's rules, leave-one-round-out (issue 10).

    .venv/bin/python benchmarks/matching/fit.py            # LORO table, chosen model
    .venv/bin/python benchmarks/matching/fit.py --fresh    # match again (not the cache)
    .venv/bin/python benchmarks/matching/fit.py --check-from 450 --split all
        # a later round scored by the model frozen in calibrated_model.json (--freeze)

What is fitted: for every dev post that similarity decides (no `source:`, no link, no quote
found; a post whose quote is in no item is never confident and is left out) the evidence
on its best item (``match.similarity_features``, given by ``match_commentary(observe=)``),
labelled 1 when that item is the post's source (or an acceptable alternative).  Every such
post with a source is matched a second time with its event taken out of the store
(evaluate.py --withhold: its source, reprints and the other outlets' tellings); its best
item then is always wrong (label 0).  A logistic regression (L2, standardized features,
numpy, Newton's method) gives a probability; a post is confident when it reaches the
threshold and no guard (``vetoed``) forbids it.

The selection is explicit: dev posts numbered up to ``LAST_POST`` in the six rounds of
``ROUNDS``; later posts (a later round, the test split) never change the fit.  The model
(guards or not, feature set, penalty) is chosen leave-one-ROUND-out: fit on five rounds,
score the sixth; the threshold of each fold is chosen by an inner leave-one-round-out on
its five training rounds (the lowest that made no confident-wrong there, plus a margin).
The matcher's rules (what decides today) are scored on the same posts; they were tuned
on all six rounds, so their figures per round are in-sample.  The outcome and why the
score does not decide is in README.md ("Issue 10, round 8: a calibrated score instead of
the rules?").
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

LAST_POST = 449
ROUNDS = ((1, 132), (133, 212), (213, 262), (263, 312), (313, 382), (383, 449))
BACKGROUND = 3000
CACHE = Path("/tmp/matching-fit-observations.json")
FROZEN = Path(__file__).resolve().parent / "calibrated_model.json"  # fit.py --freeze


def round_of(post_id: str) -> int:
    """The post's round (1-6), or 0 for a post after them."""
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
PENALTIES = (0.1, 0.3, 1.0, 3.0, 10.0)
GUARDS = ("evidence", "basic", "none")
MARGIN = 0.02  # the threshold sits this far above the most probable wrong one


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


def out_of_round(rows: list[dict], names, penalty: float, rounds) -> dict[int, float]:
    """Each scored row's probability from a model fitted on the other rounds (of ``rounds``)."""
    scored = {}
    for held in rounds:
        train = [r for r in rows if r["round"] != held and r["round"] in rounds]
        test = [(i, r) for i, r in enumerate(rows) if r["round"] == held]
        if not test:
            continue
        model = fit(
            np.array([transform(r["features"], names) for r in train]),
            np.array([r["label"] for r in train], dtype=float),
            penalty,
        )
        probabilities = predict(model, np.array([transform(r["features"], names) for _, r in test]))
        scored.update({i: float(p) for (i, _), p in zip(test, probabilities, strict=True)})
    return scored


def threshold(rows: list[dict], scored: dict[int, float]) -> float:
    """The lowest threshold that made no scored row with a wrong best item confident."""
    wrong = [p for i, p in scored.items() if rows[i]["label"] == 0]
    return min(0.99, max(wrong, default=0.0) + MARGIN)


CLOSE_RIVAL = 0.8  # a runner-up this share of the best's similarity or more: no clear best


def vetoed(features: dict, guards: str = "evidence") -> bool:
    """The guards kept as rules, whatever the score.  "basic": a rival about as similar;
    the post gives the item's figures otherwise, says it repeats it or sets it beside its
    news; the item is more than three days older than the post; an item in another
    language has none of the post's figures.  "evidence" adds: the item has nothing of
    the post's event (no rare name, word or figure of it, nor all its figures together);
    a rival has as many of the post's names and figures."""
    if guards == "none":
        return False
    basic = (
        features["share"] > CLOSE_RIVAL
        or features["against"]
        or features["old"]
        or (features["figures_missing"] and not features["same"])
    )
    if basic or guards == "basic":
        return bool(basic)
    nothing = not (features["shared"] or features["own"] or features["together"])
    tie = features["distinct"] <= 0 and features["runner"] >= 1
    return bool(nothing or tie)


def decide(row: dict, probability: float | None, cut: float, guards: str) -> tuple[bool, bool]:
    """(confident, right) of a row under the model (rows similarity did not decide keep
    the rules' outcome)."""
    if "features" in row and vetoed(row["features"], guards):
        return False, False
    if probability is None:
        return row["confident"], row["right"]
    confident = probability >= cut
    return confident, confident and bool(row["label"])


def rules_outcome(i: int, row: dict) -> tuple[bool, bool]:
    """(confident, right) of a row as the matcher's rules decided it."""
    if "features" in row:
        confident = bool(row["features"]["confident"])
        return confident, confident and bool(row["label"])
    return row["confident"], row["right"]


def model_outcome(scored, cuts, guards: str, i: int, row: dict) -> tuple[bool, bool]:
    return decide(row, scored.get(i), cuts.get(row["round"], 1.0), guards)


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
    rows: list[dict], names, penalty: float, guards: str, rounds: tuple[int, ...] = ()
) -> tuple[dict[int, float], dict[int, float]]:
    """Leave-one-round-out over ``rounds`` (all six by default): per row (its place in
    ``rows``) its probability from a model fitted on the other rounds, per round its
    threshold (chosen by a leave-one-round-out on those other rounds)."""
    rounds = rounds or tuple(range(1, len(ROUNDS) + 1))
    scorable_rows = [i for i, r in enumerate(rows) if scorable(r, guards)]
    sub = [rows[i] for i in scorable_rows]
    outer = out_of_round(sub, names, penalty, rounds)
    cuts = {}
    for held in rounds:
        training = tuple(n for n in rounds if n != held)
        inner = out_of_round(sub, names, penalty, training)
        cuts[held] = threshold(sub, inner)
    return {scorable_rows[i]: p for i, p in outer.items()}, cuts


def configurations() -> list[tuple[str, str, float]]:
    return [
        (guards, set_name, penalty)
        for guards in GUARDS
        for set_name in FEATURE_SETS
        for penalty in PENALTIES
    ]


def choose(rows: list[dict], rounds: tuple[int, ...], verbose: bool = False):
    """The configuration (guards, feature set, penalty) that does best leave-one-round-out
    over ``rounds``: no more confident-wrong than the rules there, then the most right,
    then the simplest (the strongest penalty, the fewest features)."""
    rules = table(rows, rules_outcome)
    allowed = sum(rules[n]["wrong"] for n in rounds)
    results = []
    for guards, set_name, penalty in configurations():
        scored, cuts = loro(rows, FEATURE_SETS[set_name], penalty, guards, rounds)
        per = table(rows, functools.partial(model_outcome, scored, cuts, guards))
        wrong = sum(per[n]["wrong"] for n in rounds)
        right = sum(per[n]["right"] for n in rounds)
        results.append(
            ((wrong > allowed, -right, wrong, -penalty, len(FEATURE_SETS[set_name])), guards,
             set_name, penalty, per, cuts)
        )  # fmt: skip
        if verbose:
            print(
                f"  guards {guards:<8} {set_name:<9} penalty {penalty:>5}: "
                f"LORO right {right}, wrong {wrong}"
            )
    results.sort(key=lambda r: r[0])
    return results[0][1:]


def nested(rows: list[dict]) -> tuple[dict[int, dict[str, int]], dict[int, tuple]]:
    """The whole procedure (model choice, fit, threshold) leave-one-round-out: for each
    round, everything is chosen on the other five and the round is scored once."""
    rounds = tuple(range(1, len(ROUNDS) + 1))
    decided: dict[int, tuple[bool, bool]] = {}
    chosen = {}
    for held in rounds:
        training = tuple(n for n in rounds if n != held)
        guards, set_name, penalty, _, _ = choose(rows, training)
        names = FEATURE_SETS[set_name]
        train = [r for r in rows if r["round"] in training and scorable(r, guards)]
        model = fit(
            np.array([transform(r["features"], names) for r in train]),
            np.array([r["label"] for r in train], dtype=float),
            penalty,
        )
        cut = threshold(train, out_of_round(train, names, penalty, training))
        chosen[held] = (guards, set_name, penalty, cut)
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
        help="score posts numbered N and later with the frozen model (fits nothing): a "
        "fresh round's check, rules against the model",
    )
    parser.add_argument("--split", default="dev", help="with --check-from: dev, test or all")
    args = parser.parse_args()
    if args.check_from:
        return check(args.check_from, args.split, args.background)
    if CACHE.exists() and not args.fresh:
        rows = json.loads(CACHE.read_text())
    else:
        rows = observe_all(args.background)
        CACHE.write_text(json.dumps(rows))
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
        f"posts with a source the rules miss: {len(misses)}; similarity decided "
        f"{sum('features' in r for r in misses)}, the right item ranked first in {first}"
    )

    rules = table(rows, rules_outcome)
    guards, set_name, penalty, per, cuts = choose(rows, tuple(range(1, len(ROUNDS) + 1)), True)
    print(f"\nchosen: guards {guards}, features {set_name!r}, penalty {penalty}")
    print(
        f"\n{'round':<7}{'posts w/ source':>16}{'rules right':>12}{'model right':>12}"
        f"{'rules wrong':>12}{'model wrong':>12}{'no-match ok r/m':>16}{'cut':>6}"
    )
    for n in per:
        r, m = rules[n], per[n]
        nomatch = f"{r['nomatch_right']}/{m['nomatch_right']} of {r['nomatch']}"
        print(
            f"r{n:<6}{r['sourced']:>16}{r['right']:>12}{m['right']:>12}{r['wrong']:>12}"
            f"{m['wrong']:>12}{nomatch:>16}"
            f"{cuts[n]:>6.2f}"
        )
    total = {k: sum(t[k] for t in rules.values()) for k in ("sourced", "right", "wrong")}
    mtotal = {k: sum(t[k] for t in per.values()) for k in ("right", "wrong")}
    print(
        f"{'all':<7}{total['sourced']:>16}{total['right']:>12}{mtotal['right']:>12}"
        f"{total['wrong']:>12}{mtotal['wrong']:>12}"
    )
    # The table above chose its configuration on all six rounds' LORO figures: optimistic.
    # Nested, each round is scored by a procedure that never saw it.
    inner, chosen = nested(rows)
    print("\nnested (the configuration too chosen without the held-out round):")
    print(
        f"{'round':<7}{'rules right':>12}{'model right':>12}{'rules wrong':>12}"
        f"{'model wrong':>12}{'no-match ok r/m':>16}  chosen"
    )
    wrong_posts = chosen.pop("wrong", [])
    for n in inner:
        r, m = rules[n], inner[n]
        guards_n, set_n, penalty_n, cut_n = chosen[n]
        nomatch = f"{r['nomatch_right']}/{m['nomatch_right']} of {r['nomatch']}"
        print(
            f"r{n:<6}{r['right']:>12}{m['right']:>12}{r['wrong']:>12}{m['wrong']:>12}"
            f"{nomatch:>16}  {guards_n}, {set_n}, {penalty_n}, cut {cut_n:.2f}"
        )
    print(
        f"{'all':<7}{total['right']:>12}{sum(t['right'] for t in inner.values()):>12}"
        f"{total['wrong']:>12}{sum(t['wrong'] for t in inner.values()):>12}"
    )
    print(f"  confident-wrong (nested): {', '.join(wrong_posts)}")
    names = FEATURE_SETS[set_name]
    scorable_rows = [r for r in rows if scorable(r, guards)]
    x = np.array([transform(r["features"], names) for r in scorable_rows])
    y = np.array([r["label"] for r in scorable_rows], dtype=float)
    model = fit(x, y, penalty)
    sub_scored = out_of_round(scorable_rows, names, penalty, tuple(range(1, len(ROUNDS) + 1)))
    cut = threshold(scorable_rows, sub_scored)
    print(f"\nfinal model on all six rounds; threshold {cut:.3f} (LORO over the six)")
    mean, scale, w = model
    for name, m, s, c in zip(names, mean, scale, w, strict=False):
        print(f"  {name:<16} mean {m:8.3f} scale {s:8.3f} weight {c:+.3f}")
    print(f"  intercept {w[-1]:+.3f}")
    if args.freeze:
        frozen = {
            "fitted_on": f"dev posts p001-p{LAST_POST}, {len(scorable_rows)} decisions",
            "guards": guards,
            "penalty": penalty,
            "features": list(names),
            "mean": mean.tolist(),
            "scale": scale.tolist(),
            "weights": w[:-1].tolist(),
            "intercept": float(w[-1]),
            "threshold": round(cut, 3),
        }
        FROZEN.write_text(json.dumps(frozen, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {FROZEN}")
    return 0


def check(first: int, split: str, background: int) -> int:
    """Posts numbered ``first`` and later (of ``split``), matched as the rules decide, and
    as the frozen model would: nothing is fitted, so a round written after the freeze is
    a fresh test of both."""
    frozen = json.loads(FROZEN.read_text(encoding="utf-8"))
    names = tuple(frozen["features"])
    model = (
        np.array(frozen["mean"]),
        np.array(frozen["scale"]),
        np.array([*frozen["weights"], frozen["intercept"]]),
    )

    def chosen(post: dict) -> bool:
        return int(post["id"][1:]) >= first and split in ("all", post["split"])

    rows = observe_all(background, chosen)
    for row in rows:
        row["round"] = 1  # one group: the table's first line
    guards, cut = frozen["guards"], frozen["threshold"]

    def model_of(i: int, row: dict) -> tuple[bool, bool]:
        probability = None
        if scorable(row, guards):
            probability = float(predict(model, np.array([transform(row["features"], names)]))[0])
        return decide(row, probability, cut, guards)

    rules, scored = table(rows, rules_outcome)[1], table(rows, model_of)[1]
    print(
        f"posts p{first:03d} and later ({split}): {sum(r['kind'] == 'post' for r in rows)}, "
        f"withheld runs {sum(r['kind'] == 'withheld' for r in rows)}; frozen model: "
        f"{frozen['fitted_on']}, threshold {cut}"
    )
    for label, t in (("rules", rules), ("model", scored)):
        print(
            f"  {label}: posts with a source right {t['right']}/{t['sourced']}, confident wrong "
            f"{t['wrong']}, no-match posts without a confident match "
            f"{t['nomatch_right']}/{t['nomatch']}"
        )
    for i, row in enumerate(rows):
        ours, theirs = rules_outcome(i, row), model_of(i, row)
        if ours != theirs:
            print(
                f"    {row['post']} ({row['kind']}): rules {ours}, model {theirs} (confident, right)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
