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


def test_an_index_file_cut_short_or_garbled_is_not_loaded_and_the_caller_rebuilds(tmp_path):
    path = tmp_path / "x.npz"
    save_index(RelatedIndex.build(corpus(), SETTINGS), path)
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])  # a disk that filled up, a cut copy
    assert load_index(path, SETTINGS) is None
    path.write_bytes(b"not an index at all")
    assert load_index(path, SETTINGS) is None
