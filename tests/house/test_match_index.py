"""The match index's language-independent evidence: word skeletons."""

from __future__ import annotations

import pytest

from aggregator.house.index import skeleton, words


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
