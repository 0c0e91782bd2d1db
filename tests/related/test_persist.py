"""related.persist: the index saved beside the store and loaded back."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from news import (
    NEWS,
    SETTINGS,
    corpus,
    doc,
    keys,
)

from aggregator.related import (
    RelatedIndex,
    load_index,
    save_index,
)


def test_a_saved_index_loads_back_with_the_same_lists(tmp_path: Path):
    index = RelatedIndex.build(corpus(), SETTINGS)
    save_index(index, tmp_path / "x.npz")
    loaded = load_index(tmp_path / "x.npz", SETTINGS)
    assert loaded is not None
    assert list(loaded.lists()) == list(index.lists())
    loaded.add(doc("late", 60, "Бензин в Шымкенте снова подорожал: 245 тенге", NEWS[4][3]))
    assert "late" in keys(loaded, "fuel-a") or "late" in keys(loaded, "fuel-b")


def test_an_index_made_with_other_settings_is_not_loaded(tmp_path: Path):
    save_index(RelatedIndex.build(corpus(), SETTINGS), tmp_path / "x.npz")
    assert load_index(tmp_path / "x.npz", replace(SETTINGS, count=6)) is None
