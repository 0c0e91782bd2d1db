"""The match index's language-independent evidence: word skeletons."""

from __future__ import annotations

import pytest

from aggregator.house.index import skeleton, spelled_numbers, words


@pytest.mark.parametrize(
    "spellings",
    [
        ("Токаев", "Тоқаев", "Токаева", "Tokayev"),
        ("Астана", "Astana", "Астане"),
        ("Актау", "Aktau"),
        ("КЕГОК", "KEGOC"),
        ("Джунгарский", "Жоңғар"),
        ("терминал", "terminal"),
        ("Чарын", "Шарын", "Charyn"),
        ("Чимкент", "Шымкент", "Shymkent"),
    ],
)
def test_a_name_has_one_skeleton_in_cyrillic_latin_and_kazakh_spellings(spellings):
    assert len({skeleton(word.lower()) for word in spellings}) == 1


def test_different_names_have_different_skeletons():
    assert skeleton("токаев") != skeleton("бектенов")
    assert skeleton("berlin") != skeleton("paris")
    assert skeleton("2029") != skeleton("2011")


def test_a_number_written_in_digit_groups_is_one_number():
    assert words("с 1 000 до 2\u00a0000 тенге, 12 000 000 кубов") == [
        "1000", "до", "2000", "тенге", "12000000", "кубов"
    ]  # fmt: skip
    assert words("в 2025 году 150 человек") == ["2025", "году", "150", "человек"]
    assert words("1,200 passengers, 3,500,000 tenge") == [
        "1200", "passengers", "3500000", "tenge"
    ]  # fmt: skip


def test_a_decimal_is_its_whole_part_and_the_decimal_in_either_notation():
    assert words("ставка 16,5%") == ["ставка", "16", "16d5"]
    assert skeleton(words("2,3 миллиона")[0]) == skeleton(words("2.3 million")[0]) == "#2.3"
    assert words("07.03.2025") == ["07", "03", "2025"]  # a date is no decimal


@pytest.mark.parametrize(
    ("spelled", "figures"),
    [
        ("сорока двух", ["42"]),
        ("двести тысяч тенге", ["200", "200000"]),
        ("больше двух тысяч ста человек", ["2000", "2100"]),
        ("в две тысячи двадцать пятом году", ["2000", "2025"]),
        ("двадцать пятого марта", ["25"]),
        ("до восемнадцатого апреля", ["18"]),
        ("три десятка юрт", ["30"]),
        ("больше тысячи ста человек", ["1100"]),
        ("тысячи людей", []),
        ("от восемнадцати до двадцати пяти лет", ["18", "25"]),
        ("шесть сотен шахтеров", ["600"]),
        ("за полторы сотни миллионов", ["150"]),
    ],
)
def test_a_number_spelled_in_russian_words_is_its_figure(spelled, figures):
    """Thousands and what follows them make one number; an ordinal ends a spelled date."""
    assert spelled_numbers(words(spelled)) == figures


def test_a_one_digit_ordinal_alone_is_no_figure():
    assert spelled_numbers(words("во вторник, на второй день, в пятом ряду")) == []
