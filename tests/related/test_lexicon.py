"""related.lexicon: abbreviations, figures and name skeletons bridge real variation."""

from __future__ import annotations

import pytest

from aggregator.related.lexicon import (
    expand_abbreviations,
    figure_tokens,
    mark_figures,
    skeleton,
)
from aggregator.text.words import tokenize


def figures(text: str) -> list[str]:
    return [
        t for t in figure_tokens(tokenize(mark_figures(text))) if t[0] == "n" and t[1:2].isdigit()
    ]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("1,5 млн тенге", "1 500 000 тенге"),
        ("35 тыс. человек", "35 тысяч человек"),
        ("3 млрд долларов", "три миллиарда долларов"),
        ("2 трлн тенге", "2 триллиона тенге"),
        ("двадцать пять тысяч", "25 000"),
        ("$2 billion", "two billion dollars"),
        ("бес мың", "5000"),
    ],
)
def test_one_figure_has_one_spelling(a: str, b: str):
    assert figures(a) == figures(b) != []


def test_a_number_word_is_a_figure_only_in_its_own_language():
    # Kazakh "он" is ten; in Russian it is "he", in every other sentence.
    assert figure_tokens(tokenize("он сказал"), "ru") == ["он", "сказал"]
    assert figure_tokens(tokenize("он мың теңге"), "kk") == ["n10000", "теңге"]
    assert figure_tokens(tokenize("one of two"), "en") == ["n1", "of", "n2"]
    assert figure_tokens(tokenize("пять тысяч"), "ru") == ["n5000"]


def test_small_and_decimal_figures_are_kept():
    assert figures("8 ракет и 1,5 процента") == ["n8", "n1p5"]


def test_abbreviations_are_spelled_out_only_as_whole_words():
    assert expand_abbreviations("ВБ и МВФ") == "Всемирный банк и Международный валютный фонд"
    assert expand_abbreviations("ЮВО") == "Южный военный округ"
    assert expand_abbreviations("ВБх СШАх") == "ВБх СШАх"


@pytest.mark.parametrize(
    ("latin", "cyrillic"),
    [("Arctic", "Арктик"), ("Sunrise", "Санрайз"), ("Lexus", "Лексус"), ("Tokayev", "Токаев")],
)
def test_a_name_in_latin_and_in_cyrillic_has_one_skeleton(latin: str, cyrillic: str):
    assert skeleton(latin) == skeleton(cyrillic)


def test_different_names_keep_different_skeletons():
    assert skeleton("Астана") != skeleton("Алматы")


def test_figures_marked_at_known_digit_places_are_the_figures_found_by_scanning():
    """The rebuild finds a batch's digits at once and tries the figure pattern only
    there: the same text as scanning for it, whatever digits, separators, scales,
    decimals and other scripts' digits (Arabic-Indic, Devanagari, astral) come."""
    import random

    from aggregator.related._proper_names import digit_places

    rng = random.Random(11)
    pieces = [
        "1", "5", "12", "1 500", "2\u00a0100\u202f000", "1,5", "0.25", "35", " тыс.", " млн",
        " млрд", " миллиона", " billion", "тенге", "ЦБ", "а", "x", " ", ", ", ".", "-", "\n",
        "٣", "४२", "𝟕", "²", "n7", "№3", "2024-го", "5%", "1,5,7", "..", "12.", "«", "»",
    ]  # fmt: skip
    texts = ["", "без цифр", "7", "в 2024 году"]
    texts += ["".join(rng.choices(pieces, k=rng.randint(1, 40))) for _ in range(600)]
    for text, places in zip(texts, digit_places(texts), strict=True):
        assert places == [i for i, c in enumerate(text) if c.isdecimal()], text
        assert mark_figures(text, places) == mark_figures(text), text
