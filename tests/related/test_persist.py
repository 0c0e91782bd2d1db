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
    persist,
    save_index,
)
from aggregator.related.persist import delta_path


def test_a_saved_index_loads_back_with_the_same_lists(tmp_path: Path):
    index = RelatedIndex.build(corpus(), SETTINGS)
    save_index(index, tmp_path / "x.npz")
    loaded = load_index(tmp_path / "x.npz", SETTINGS)
    assert loaded is not None
    assert list(loaded.lists()) == list(index.lists())
    # Mapped from the file, aligned (numpy copies an unaligned array to search it).
    assert loaded.term_hash.flags.aligned and loaded.term_hash.ctypes.data % 64 == 0
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


def same_index(a: RelatedIndex, b: RelatedIndex) -> None:
    assert a.live_keys() == b.live_keys()
    assert a.ids().tolist() == b.ids().tolist()
    assert list(a.lists()) == list(b.lists())
    assert a.stories() == b.stories()
    assert (a.store_mark, a.drift, a.exclude) == (b.store_mark, b.drift, b.exclude)


def test_a_run_saves_only_what_changed_and_loading_gives_the_same_index(tmp_path: Path):
    path = tmp_path / "x.npz"
    docs = corpus()
    live = RelatedIndex.build(docs[::2], SETTINGS)
    save_index(live, path)
    base = path.read_bytes()
    # A run: new entries, one expired, one edited; then another that drops a new one.
    live.update(docs[1::2][:3], removed=[docs[0].key])
    live.store_mark = 7
    save_index(live, path)
    assert path.read_bytes() == base  # only the delta file was written
    assert delta_path(path).exists()
    same_index(load_index(path, SETTINGS), live)
    late = doc("late", 60, "Бензин в Шымкенте снова подорожал: 245 тенге", NEWS[4][3])
    live.update([*docs[1::2][3:], late], removed=[docs[1].key, docs[2].key])
    save_index(live, path)
    loaded = load_index(path, SETTINGS)
    same_index(loaded, live)
    # The loaded index goes on exactly as the one that never left memory.
    more = doc("later", 70, "В Шымкенте бензин АИ-92 подорожал до 252 тенге", NEWS[4][3])
    assert loaded.update([more]) == live.update([more])
    same_index(loaded, live)


def test_a_grown_delta_is_folded_into_a_new_base(tmp_path: Path, monkeypatch):
    path = tmp_path / "x.npz"
    docs = corpus()
    live = RelatedIndex.build(docs[:4], SETTINGS)
    save_index(live, path)
    monkeypatch.setattr(persist, "COMPACT_MIN", 2)
    live.update(docs[4:])  # more than 2 entries: a new base
    save_index(live, path)
    assert not delta_path(path).exists()
    same_index(load_index(path, SETTINGS), live)
    live.update([], removed=[docs[5].key])
    save_index(live, path)
    assert delta_path(path).exists()
    same_index(load_index(path, SETTINGS), live)


def test_a_delta_left_beside_a_newer_base_is_ignored(tmp_path: Path):
    path = tmp_path / "x.npz"
    docs = corpus()
    live = RelatedIndex.build(docs[:4], SETTINGS)
    save_index(live, path)
    live.update(docs[4:6])
    save_index(live, path)
    stale = delta_path(path).read_bytes()
    rebuilt = RelatedIndex.build(docs, SETTINGS)
    save_index(rebuilt, path)  # a run killed before it removed the old delta:
    delta_path(path).write_bytes(stale)
    same_index(load_index(path, SETTINGS), rebuilt)


def test_removed_entries_stay_as_tombstones_until_a_new_base_and_are_never_listed(
    tmp_path: Path, monkeypatch
):
    """Loading saved removals costs in proportion to them: no row moves (renumbering
    every array on every load cost a run seconds at 100,000 entries)."""
    path = tmp_path / "x.npz"
    docs = corpus()
    live = RelatedIndex.build(docs, SETTINGS)
    save_index(live, path)
    rows = list(live.keys)
    gone = keys(live, "school-a")[0]  # school-b, the retelling school-a lists first
    live.update([], removed=[gone])
    save_index(live, path)
    loaded = load_index(path, SETTINGS)
    assert loaded.keys == rows  # the removed entry's row is still there, dead
    assert gone not in loaded and len(loaded) == len(docs) - 1
    assert gone not in loaded.live_keys() and gone not in loaded.stories()
    assert all(gone not in [k for k, _ in listed] for _, listed in loaded.lists())
    assert loaded.id_of(gone) is None and live.id_of(gone) is None
    # The dead row is never a candidate again, even for a text just like it ...
    school_b = next(d for d in docs if d.key == gone)
    again = replace(school_b, key="school-b-again", link="https://x.example.kz/again")
    assert loaded.update([again]) == live.update([again])
    assert gone not in keys(loaded, "school-b-again")
    same_index(loaded, live)
    # ... and its key may come back (an item stored again under a freed key).
    back = replace(school_b, link="https://x.example.kz/back")
    assert loaded.update([back]) == live.update([back])
    assert gone in loaded and gone in keys(loaded, "school-a")
    same_index(loaded, live)
    # A new base drops the dead rows for good.
    monkeypatch.setattr(persist, "COMPACT_MIN", 0)
    monkeypatch.setattr(persist, "COMPACT_FRACTION", 0)
    save_index(loaded, path)
    assert not delta_path(path).exists()
    assert len(loaded.keys) == len(loaded) == len(docs) + 1
    same_index(load_index(path, SETTINGS), live)
