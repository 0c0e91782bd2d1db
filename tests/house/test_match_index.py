"""The match index's language-independent evidence: word skeletons."""

from __future__ import annotations

import pytest

from aggregator.house.index import skeleton


@pytest.mark.parametrize(
    "spellings",
    [
        ("Токаев", "Тоқаев", "Токаева", "Tokayev"),
        ("Астана", "Astana", "Астане"),
        ("Актау", "Aktau"),
        ("КЕГОК", "KEGOC"),
        ("Джунгарский", "Жоңғар"),
        ("терминал", "terminal"),
    ],
)
def test_a_name_has_one_skeleton_in_cyrillic_latin_and_kazakh_spellings(spellings):
    assert len({skeleton(word.lower()) for word in spellings}) == 1


def test_different_names_have_different_skeletons():
    assert skeleton("токаев") != skeleton("бектенов")
    assert skeleton("berlin") != skeleton("paris")
    assert skeleton("2029") != skeleton("2011")
