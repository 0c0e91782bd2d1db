"""related: the relate stage end to end: store -> index -> output files -> publish."""

from __future__ import annotations

import json
import os
import pickle
import sqlite3
import subprocess
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree
from news import (
    ATOM,
    HEADLINE_ONLY,
    HOSTILE,
    NEWS,
    REPRINT,
    SETTINGS,
    SOURCE_OF,
    T0,
    key_of,
    site_config,
    store_items,
)

from aggregator.cli import cli
from aggregator.config import (
    SourceConfig,
)
from aggregator.ingest.update import record_fetch
from aggregator.models import Item
from aggregator.publish import publish
from aggregator.related import (
    commentary_sources,
    export,
    index_path,
    refresh,
    relate,
    url_key,
    url_shard,
)
from aggregator.store import Storage, open_storage

# --- the store, publish and the CLI ----------------------------------------------------


@pytest.fixture
def published(store_at, tmp_path: Path):
    config = site_config(tmp_path)
    storage = open_storage(store_at("store"))
    store_items(storage, config, title_of={"fuel-b": HOSTILE + NEWS[4][2]})
    relate(config, storage, tmp_path / "output")  # then publish, as `aggregator run` does
    publish(config, storage, out_dir=tmp_path / "output")
    yield config, storage, tmp_path / "output"
    storage.close()


def related_json(out: Path) -> tuple[dict, dict[int, str], dict[int, list], list[list[int]]]:
    """related.json and its blocks, as an embedder reads them: (the head, entry number ->
    key, entry number -> its list, the stories as lists of entry numbers)."""
    head = json.loads((out / "related.json").read_text(encoding="utf-8"))
    keys, lists, stories = {}, {}, []
    for n in head["blocks"]:
        block = json.loads((out / "related" / "lists" / f"{n}.json").read_text(encoding="utf-8"))
        for i, key in enumerate(block["keys"]):
            if key is not None:
                keys[n * head["block"] + i] = key
                lists[n * head["block"] + i] = block["lists"][i]
        stories += block["stories"]
    return head, keys, lists, stories


def test_related_json_lists_every_entry_as_ids_and_scores_under_the_feeds_ids(published):
    config, storage, out = published
    head, keys, lists, _ = related_json(out)
    assert head["format"] == "aggregator-related/3"
    ids = head["ids"]
    atom = etree.parse(str(out / "all.atom"))
    feed_ids = {e.findtext(f"{ATOM}id") for e in atom.iter(f"{ATOM}entry")}
    assert {ids["prefix"] + k + ids["suffix"] for k in keys.values()} == feed_ids
    number = {k: n for n, k in keys.items()}
    school_a = lists[number[key_of(storage, "school-a")]]
    assert keys[school_a[0]] == key_of(storage, "school-b")
    assert 0 < school_a[1] <= 1500  # thousandths
    size = sum(p.stat().st_size for p in [out / "related.json", *(out / "related/lists").iterdir()])
    assert size <= 150 * len(keys)


def test_a_run_rewrites_only_the_list_files_of_entries_whose_lists_changed(published, monkeypatch):
    config, storage, out = published
    monkeypatch.setattr(export, "BLOCK", 2)
    relate(config, storage, out, rebuild=True)
    before = {p.name: p.read_bytes() for p in (out / "related" / "lists").iterdir()}
    SOURCE_OF["fuel-c"] = "tengri"
    late = ("fuel-c", 14, "Цена АИ-92 в Шымкенте — 245 тенге", NEWS[4][3], ("экономика",), "ru")
    store_items(storage, config, rows=[late])
    result = relate(config, storage, out)
    after = {p.name: p.read_bytes() for p in (out / "related" / "lists").iterdir()}
    changed = {name for name in after if before.get(name) != after[name]}
    index = result.index
    expected = {f"{index.id_of(k) // 2}.json" for k in result.changed}
    assert changed <= expected and f"{index.id_of(key_of(storage, 'fuel-c')) // 2}.json" in changed
    assert len(changed) < len(after)
    _, keys, lists, _ = related_json(out)
    number = {k: n for n, k in keys.items()}
    assert number[key_of(storage, "fuel-c")] in lists[number[key_of(storage, "fuel-a")]][::2]


def test_a_reprint_is_listed_once_with_the_other_outlet_as_also(tmp_path: Path):
    config = site_config(tmp_path)
    with open_storage(tmp_path / "store.sqlite") as storage:
        store_items(storage, config, rows=[*NEWS, REPRINT, HEADLINE_ONLY])
        relate(config, storage, tmp_path / "output")
        key = key_of(storage, "school-a")
        reprint = key_of(storage, "school-b-reprint")
    page = json.loads((tmp_path / "output" / "related" / f"{key}.json").read_text())
    listed = [item["url"] for item in page["related"]]
    school_b = "https://vlast.example.kz/news/school-b"
    assert school_b in listed and "https://wire.example.kz/news/school-b-reprint" not in listed
    (item,) = [item for item in page["related"] if item["url"] == school_b]
    assert item["also"] == [
        {"source": "Steppe Wire", "url": "https://wire.example.kz/news/school-b-reprint"}
    ]
    _, keys, _, stories = related_json(tmp_path / "output")
    assert any(reprint in [keys[r] for r in story] for story in stories)
    headline_only = [i for i in page["related"] if i["url"].endswith("/school-c")]
    assert headline_only and headline_only[0]["lead"] == ""  # not the title again


def test_the_per_entry_file_shows_what_a_page_lists(published):
    config, storage, out = published
    key = key_of(storage, "school-a")
    page = json.loads((out / "related" / f"{key}.json").read_text(encoding="utf-8"))
    first = page["related"][0]
    assert first["id"] == config.site.item_id(key_of(storage, "school-b"))
    assert first["title"] == NEWS[1][2]
    assert first["url"] == "https://vlast.example.kz/news/school-b"
    assert first["source"] == "Власть <Vlast>"
    assert first["published"] == "2026-03-02T14:00:00Z"
    assert first["lead"].startswith("Учебный корпус на улице Абая")
    assert 0 < first["score"] <= 1.5
    assert set(first) == {"id", "title", "url", "lead", "published", "source", "score"}


def test_publish_writes_a_file_per_entry_and_the_url_map_the_widget_reads(published):
    config, storage, out = published
    key = key_of(storage, "fuel-a")
    page = json.loads((out / "related" / f"{key}.json").read_text(encoding="utf-8"))
    assert page["id"] == config.site.item_id(key)
    assert page["related"][0]["title"] == HOSTILE + NEWS[4][2]
    url = "https://www.tengri.example.kz/news/fuel-a/"  # spelled differently
    shard = json.loads((out / "related" / "urls" / f"{url_shard(url_key(url))}.json").read_text())
    assert shard[url_key(url)] == key
    assert {p.name for p in (out / "related").glob("*.json")} == {
        f"{s.key}.json" for s in storage.iter_items()
    }
    assert "textContent" in (out / "related.js").read_text(encoding="utf-8")
    assert (out / "related.css").exists()


def test_markup_in_titles_stays_data_in_the_json(published):
    _, storage, out = published
    for path in (out / "related" / f"{key_of(storage, 'fuel-a')}.json",):
        text = path.read_text(encoding="utf-8")
        assert "<img" not in text and "\\u003cimg src=x" in text
        document = json.loads(text)
        lists = document.values() if path.name == "related.json" else [document["related"]]
        assert HOSTILE + NEWS[4][2] in [item["title"] for listed in lists for item in listed]


def test_atom_entries_link_to_their_related_entries(published):
    _, _, out = published
    atom = etree.parse(str(out / "all.atom"))
    links = {
        e.findtext(f"{ATOM}title"): [
            (link.get("href"), link.get("title"))
            for link in e.findall(f"{ATOM}link")
            if link.get("rel") == "related"
        ]
        for e in atom.iter(f"{ATOM}entry")
    }
    assert links[NEWS[0][2]][0] == ("https://vlast.example.kz/news/school-b", NEWS[1][2])


def test_publishing_again_gives_byte_identical_files(published):
    config, storage, out = published
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    report = publish(config, storage, out_dir=out)
    assert report.written == ()
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_the_export_by_worker_processes_writes_the_files_one_process_writes(
    published, tmp_path: Path
):
    config, storage, _ = published
    result = refresh(config, storage, rebuild=True)
    files = {}
    for n in (1, 2):
        out = tmp_path / f"by-{n}"
        out.mkdir()
        export.write_outputs(config, result, out, lambda name, data: None, processes=n)
        files[n] = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert len(files[1]) > len(NEWS)  # every entry's file, the lists, the URL map
    assert files[2] == files[1]


def test_an_export_after_a_rebuild_reads_back_only_the_files_changed_since_the_last(
    published, monkeypatch
):
    """The export after a rebuild notes each entry file it wrote (inode, time, size,
    digest) beside the index; the next one compares only the files replaced, edited or
    removed since (by anyone: a killed run's replacements are new inodes) and trusts
    the rest, which it leaves alone."""
    config, storage, out = published
    relate(config, storage, out, rebuild=True)  # notes what it wrote
    related_dir = out / "related"
    entry_files = sorted(p for p in related_dir.glob("*.json"))
    edited, replaced, removed, *others = entry_files
    right = {p: p.read_bytes() for p in (edited, replaced, removed)}
    with open(edited, "r+b") as f:  # edited in place: same inode, a new time
        f.write(b"[" + right[edited][1:])
    stat = replaced.stat()
    temp = replaced.with_suffix(".tmp")
    temp.write_bytes(b"[" + right[replaced][1:])  # same size and time, a new inode
    temp.replace(replaced)
    os.utime(replaced, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    removed.unlink()
    untouched = {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in others}
    compared = []
    real = export.write_if_changed

    def write_if_changed(path, data, **kw):
        compared.append(path)
        return real(path, data, **kw)

    monkeypatch.setattr(export, "write_if_changed", write_if_changed)
    relate(config, storage, out, rebuild=True)
    assert {p: p.read_bytes() for p in right} == right
    assert {p for p in compared if p.parent == related_dir} == {edited, replaced, removed}
    assert {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in others} == untouched


def test_a_file_as_new_as_the_manifest_is_compared_whatever_the_manifest_says(published):
    """On a coarse clock (FAT's 2 s) an edit in place right after the export keeps the
    time the manifest noted: a file not older than the manifest itself is compared."""
    config, storage, out = published
    relate(config, storage, out, rebuild=True)
    index_file = index_path(storage.location, tmp_path_of(config))
    manifest = index_file.with_name(index_file.name.removesuffix(".npz") + ".files.npz")
    entry_file = next((out / "related").glob("*.json"))
    right = entry_file.read_bytes()
    noted = entry_file.stat()
    os.utime(manifest, ns=(noted.st_atime_ns, noted.st_mtime_ns))  # the same tick
    with open(entry_file, "r+b") as f:  # in place, same size; the clock has not moved
        f.write(b"[" + right[1:])
    os.utime(entry_file, ns=(noted.st_atime_ns, noted.st_mtime_ns))
    relate(config, storage, out, rebuild=True)
    assert entry_file.read_bytes() == right


def test_a_damaged_files_manifest_only_makes_the_export_compare_every_file(published):
    config, storage, out = published
    index_file = index_path(storage.location, tmp_path_of(config))
    manifest = index_file.with_name(index_file.name.removesuffix(".npz") + ".files.npz")
    assert manifest.exists()
    entry_file = next((out / "related").glob("*.json"))
    right = entry_file.read_bytes()
    entry_file.write_bytes(b"[" + right[1:])
    for damaged in (b"not a manifest", _short_columns()):
        manifest.write_bytes(damaged)
        relate(config, storage, out, rebuild=True)
        assert entry_file.read_bytes() == right
        assert manifest.read_bytes() != damaged  # written anew
        entry_file.write_bytes(b"[" + right[1:])


def _short_columns() -> bytes:
    """A manifest whose columns are not all as long as its names."""
    import io

    import numpy as np

    f = io.BytesIO()
    names = np.array(["a.json", "b.json"])
    np.savez(
        f,
        names=names,
        inode=np.zeros(1, np.uint64),
        mtime=np.zeros(2, np.int64),
        size=np.zeros(2, np.int64),
        digest=np.zeros(2, "V16"),
    )
    return f.getvalue()


def test_a_run_with_new_items_updates_the_index_without_rebuilding(published):
    config, storage, out = published
    late = ("fuel-c", 14, "Цена АИ-92 в Шымкенте — 245 тенге", NEWS[4][3], ("экономика",), "ru")
    SOURCE_OF["fuel-c"] = "tengri"
    store_items(storage, config, rows=[late])
    result = refresh(config, storage)
    assert not result.stats.rebuilt or "changed since" in result.stats.reason
    fuel_c = key_of(storage, "fuel-c")
    assert fuel_c in [k for k, _ in result.index.related(key_of(storage, "fuel-a"))]


def test_an_update_maps_the_saved_index_and_imports_no_scipy(published):
    """scipy's import costs a run adding a few entries more than its work: it builds."""
    config, storage, out = published
    SOURCE_OF["fuel-c"] = "tengri"
    late = ("fuel-c", 14, "Цена АИ-92 в Шымкенте — 245 тенге", NEWS[4][3], ("экономика",), "ru")
    store_items(storage, config, rows=[late])
    code = (
        "import pickle, sys; from pathlib import Path\n"
        "from aggregator.related import relate\n"
        "from aggregator.store import open_storage\n"
        f"config = pickle.loads({pickle.dumps(config)!r})\n"
        f"with open_storage({storage.location!r}) as storage:\n"
        f"    result = relate(config, storage, Path({str(out)!r}))\n"
        "print(result.stats.added, result.stats.rebuilt, any(m.startswith('scipy') for m in sys.modules))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.split() == ["1", "False", "False"], run.stderr
    fuel_a, fuel_c = key_of(storage, "fuel-a"), key_of(storage, "fuel-c")
    page = json.loads((out / "related" / f"{fuel_a}.json").read_text(encoding="utf-8"))
    assert "https://tengri.example.kz/news/fuel-c" in [item["url"] for item in page["related"]]
    assert fuel_c in [k for k, _ in refresh(config, storage).index.related(fuel_a)]


class NoScans:
    """The store, except that reading every item fails: an incremental run must not."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.fetched: list[str] = []

    def __getattr__(self, name: str):
        return getattr(self.storage, name)

    def iter_items(self, **kwargs):
        raise AssertionError("an incremental run read the whole store")

    def get_item(self, key: str):
        self.fetched.append(key)
        return self.storage.get_item(key)


def test_an_update_reads_only_the_new_and_removed_entries_and_what_their_files_show(
    published, tmp_path: Path
):
    config, storage, out = published
    SOURCE_OF["fuel-c"] = "tengri"
    late = ("fuel-c", 14, "Цена АИ-92 в Шымкенте — 245 тенге", NEWS[4][3], ("экономика",), "ru")
    store_items(storage, config, rows=[late])
    before = {p.name: p.stat().st_mtime_ns for p in (out / "related").glob("*.json")}
    watched = NoScans(storage)
    result = relate(config, watched, out)
    assert not result.stats.rebuilt and result.stats.added == 1
    fuel_a, fuel_c = key_of(storage, "fuel-a"), key_of(storage, "fuel-c")
    assert fuel_c in [k for k, _ in result.index.related(fuel_a)]
    assert len(set(watched.fetched)) < len(NEWS)  # the new entry and the lists it entered
    after = {p.name: p.stat().st_mtime_ns for p in (out / "related").glob("*.json")}
    rewritten = {name for name in before if after[name] != before[name]}
    assert f"{key_of(storage, 'weather')}.json" not in rewritten
    assert f"{fuel_c}.json" in after
    page = json.loads((out / "related" / f"{fuel_c}.json").read_text(encoding="utf-8"))
    assert page["related"]
    # Expired entries leave: their files, and every list (so many here: a rebuild).
    storage.prune(retention_days=1, keep_latest=0, now=T0 + timedelta(days=400))
    result = relate(config, storage, out)
    assert result.index.keys == []
    assert not list((out / "related").glob("*.json"))


def test_a_run_with_nothing_new_reads_no_entry_and_writes_no_file(published):
    config, storage, out = published
    index_file = index_path(storage.location, tmp_path_of(config))
    files = [p for p in [*out.rglob("*"), *index_file.parent.glob("*.npz")]]
    before = {p: p.stat().st_mtime_ns for p in files if p.is_file()}
    watched = NoScans(storage)
    result = relate(config, watched, out)
    assert result.unchanged and not result.stats.rebuilt
    assert watched.fetched == []
    assert {p: p.stat().st_mtime_ns for p in before} == before
    # The index is still there for whoever asks, as the last run left it.
    assert len(result.index) == result.entry_count == storage.items_count()


def tmp_path_of(config):
    return Path(config.path).parent


def test_a_damaged_index_file_is_rebuilt(published):
    config, storage, _ = published
    index_path(storage.location, tmp_path_of(config)).write_bytes(b"not an index")
    result = refresh(config, storage)
    assert result.stats.rebuilt
    assert len(result.index) == storage.items_count()


def test_pruned_entries_lose_their_files(published, tmp_path: Path):
    config, storage, out = published
    gone = key_of(storage, "school-a")  # not the newest of its source
    storage.prune(retention_days=1, keep_latest=1, now=T0 + timedelta(days=30))
    relate(config, storage, out)
    assert not (out / "related" / f"{gone}.json").exists()
    assert gone not in related_json(out)[1].values()


def site_yaml(store: str) -> str:
    """feeds.yaml of a site storing into ``store``, with the labelled set's sources."""
    sources = sorted(set(SOURCE_OF.values()))
    return (
        "site: {title: Евразия24, link: 'https://eurasia24.kz/'}\n"
        f"storage: {{url: '{store}'}}\n"
        "sources:\n" + "".join(f"  - {{id: {s}, name: {s}, url: {s}.xml}}\n" for s in sources)
    )


def related_site(store_at, tmp_path: Path, rows=NEWS) -> tuple[Path, list[str]]:
    """The feeds.yaml of a site whose store holds ``rows``, and `aggregator related`'s
    arguments for it."""
    config_file = tmp_path / "feeds.yaml"
    config_file.write_text(site_yaml(store_at("aggregator")), encoding="utf-8")
    from aggregator.config import load_config

    with open_storage(store_at("aggregator")) as storage:
        store_items(storage, load_config(config_file), rows=rows)
    return config_file, ["--config", str(config_file), "related"]


def test_the_related_command_rebuilds_on_request(store_at, tmp_path: Path):
    (tmp_path / "feeds.yaml").write_text(site_yaml(store_at("aggregator")), encoding="utf-8")
    from aggregator.config import load_config

    config = load_config(tmp_path / "feeds.yaml")
    with open_storage(store_at("aggregator")) as storage:
        store_items(storage, config, rows=NEWS)
    runner = CliRunner()
    args = ["--config", str(tmp_path / "feeds.yaml"), "related"]
    first = runner.invoke(cli, args)
    assert first.exit_code == 0, first.output
    assert "rebuilt (no usable index)" in first.output
    again = runner.invoke(cli, args)
    assert "related index up to date: no entry stored, edited or removed" in again.output
    rebuilt = runner.invoke(cli, [*args, "--rebuild"])
    assert "rebuilt (asked to)" in rebuilt.output
    assert (tmp_path / "output" / "related.js").exists()
    assert index_path(store_at("aggregator"), tmp_path).exists()


def test_a_commentarys_own_source_item_is_its_source_never_its_related_entry(
    store_at, tmp_path: Path
):
    config = site_config(tmp_path)
    house = SourceConfig(id="house", name="Евразия24", url="h.xml", language="ru", house=True)
    config = replace(config, sources=(*config.sources, house))
    quoted = NEWS[0][3]  # school-a's text, quoted whole
    post = Item(
        id="house-1",
        title="Школа с бассейном",
        link="https://eurasia24.kz/comment/1",
        content=(
            f"<p>Tengrinews сообщает: «{quoted}»</p>"
            "<p>Евразия24 комментирует:</p>"
            "<p>Хорошо, что в Караганде строят школы; теперь нужны учителя робототехники.</p>"
        ),
        published=T0 + timedelta(hours=8),
        language="ru",
    )
    with open_storage(store_at("store")) as storage:
        store_items(storage, config)
        record_fetch(
            storage, storage.get_source_state("house"), [post], fetched_at=T0 + timedelta(days=3)
        )
        commentary = next(s.key for s in storage.iter_items() if s.item.id == "house-1")
        source = key_of(storage, "school-a")
        partner = key_of(storage, "school-b")
        assert commentary_sources(config, storage) == {commentary: {source}}

        relate(config, storage, tmp_path / "output")

    page = json.loads((tmp_path / "output" / "related" / f"{commentary}.json").read_bytes())
    assert config.site.item_id(source) not in {e["id"] for e in page["related"]}
    assert [e["id"] for e in page["source"]] == [config.site.item_id(source)]
    assert config.site.item_id(partner) in {e["id"] for e in page["related"]}


def test_an_entry_removed_from_the_store_leaves_every_list_file_and_url_shard(published):
    config, storage, out = published
    gone = key_of(storage, "school-b")
    url = "https://vlast.example.kz/news/school-b"
    shard = out / "related" / "urls" / f"{url_shard(url_key(url))}.json"
    assert gone in json.loads(shard.read_text()).values()
    if storage.location.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(storage.location) as pg:  # as prune does, for one entry
            pg.execute("DELETE FROM items WHERE key = %s", (gone,))
    else:
        with sqlite3.connect(storage.location) as db:  # as prune does, for one entry
            db.execute("DELETE FROM items WHERE key = ?", (gone,))
    result = relate(config, NoScans(storage), out)
    assert not result.stats.rebuilt and result.stats.removed == 1
    assert not (out / "related" / f"{gone}.json").exists()
    assert gone not in json.loads(shard.read_text()).values() if shard.exists() else True
    for page in (out / "related").glob("*.json"):
        assert "/school-b" not in page.read_text()


def test_a_removed_entry_with_a_damaged_file_still_leaves_the_url_map(published):
    """The shard naming a removed entry is found from the URL in its file; without one,
    every shard is looked through."""
    config, storage, out = published
    gone = key_of(storage, "school-b")
    url = "https://vlast.example.kz/news/school-b"
    shard = out / "related" / "urls" / f"{url_shard(url_key(url))}.json"
    (out / "related" / f"{gone}.json").write_text("{damaged", encoding="utf-8")
    _delete(storage, gone)
    relate(config, storage, out)
    assert not shard.exists() or gone not in json.loads(shard.read_text()).values()
    assert not (out / "related" / f"{gone}.json").exists()


def _delete(storage: Storage, key: str) -> None:
    """Remove one item as prune does."""
    if storage.location.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(storage.location) as pg:
            pg.execute("DELETE FROM items WHERE key = %s", (key,))
    else:
        with sqlite3.connect(storage.location) as db:
            db.execute("DELETE FROM items WHERE key = ?", (key,))


def _stories_and_also(out: Path) -> tuple[list[list], dict[str, list[str]]]:
    """(every story of the blocks as keys, each per-entry file's listed url -> its also)."""
    _, keys, _, stories = related_json(out)
    also = {}
    for page in (out / "related").glob("*.json"):
        for item in json.loads(page.read_text(encoding="utf-8"))["related"]:
            also[f"{page.stem} -> {item['url']}"] = [a["url"] for a in item.get("also", [])]
    return [[keys.get(n) for n in story] for story in stories], also


@pytest.mark.parametrize("leaves", ["removed", "edited"])
def test_an_entry_leaving_its_reprint_group_leaves_no_trace_in_the_others_files(
    store_at, tmp_path: Path, monkeypatch, leaves
):
    monkeypatch.setattr(export, "BLOCK", 2)  # the story's members in different blocks
    config = site_config(tmp_path)
    out = tmp_path / "output"
    reprint_url = "https://wire.example.kz/news/school-b-reprint"
    with open_storage(store_at("store")) as storage:
        store_items(storage, config, rows=[*NEWS, REPRINT])
        relate(config, storage, out)
        reprint = key_of(storage, "school-b-reprint")
        stories, also = _stories_and_also(out)
        assert any(reprint in story for story in stories)
        assert any(reprint_url in urls for urls in also.values())
        if leaves == "removed":
            _delete(storage, reprint)
        else:  # rewritten into a text of its own: no longer a reprint
            edited = (
                "school-b-reprint",
                7,
                "В Актобе прошёл турнир по шахматам среди школьников",
                "Победителями турнира стали ученики лицея номер три, сообщили организаторы.",
                (),
                "ru",
            )
            store_items(storage, config, rows=[edited])
        result = relate(config, storage, out)
        assert not result.stats.rebuilt
        stories, also = _stories_and_also(out)
        # Every story named in the blocks is of entries still there, with their keys
        # (no null left where the reprint was), and of more than one entry.
        assert all(None not in story and len(story) > 1 for story in stories), stories
        assert not any(reprint in story for story in stories)
        assert not any(reprint_url in urls for urls in also.values())
        _, keys, _, _ = related_json(out)
        assert len(keys) == len(set(keys.values())) == storage.items_count()  # one number each


def test_a_commentary_file_is_indexed_like_any_entry_and_gets_its_list(tmp_path: Path):
    config = site_config(tmp_path)
    (tmp_path / "commentary").mkdir()
    (tmp_path / "commentary" / "bridge.md").write_text(
        "---\n"
        "title: Бензин дорожает, проверки молчат\n"
        "date: 2026-03-03 10:00\n"
        "slug: bridge\n"
        "link: https://eurasia24.kz/comment/bridge\n"
        "---\n\n"
        "Шымкентские АЗС «Оңтүстік Ойл» снова подняли цену АИ-92: топливо стало дороже "
        "на 7 тенге. Проверка ценообразования, которую обещала Дина Ахметова, пока "
        "ничего не изменила.\n",
        encoding="utf-8",
    )
    config = replace(config, house=replace(config.house, commentary_dir="commentary"))
    with open_storage(tmp_path / "store.sqlite") as storage:
        store_items(storage, config)
        relate(config, storage, tmp_path / "output")
        fuel = {key_of(storage, "fuel-a"), key_of(storage, "fuel-b")}
        page = json.loads((tmp_path / "output" / "related" / "commentary--bridge.json").read_text())
        assert {config.site.item_id(k) for k in fuel} & {e["id"] for e in page["related"]}, page
        # The widget finds it by its page's URL.
        link = url_key("https://eurasia24.kz/comment/bridge")
        shard = tmp_path / "output" / "related" / "urls" / f"{url_shard(link)}.json"
        assert json.loads(shard.read_text())[link] == "commentary--bridge"
        # A file removed from the commentary folder leaves the index on the next run.
        (tmp_path / "commentary" / "bridge.md").unlink()
        result = relate(config, storage, tmp_path / "output")
        assert "commentary/bridge" not in result.index
        assert not (tmp_path / "output" / "related" / "commentary--bridge.json").exists()


def test_a_rebuild_by_worker_processes_equals_one_process_and_adding_each_entry(tmp_path: Path):
    """The parallel rebuild (each worker reads and analyzes its own part of the store)
    gives the index one process gives, and an entry taken out and added again through
    the incremental path (with the rebuild's frozen IDF) gets the same vector back:
    every list is as the rebuild left it."""
    from aggregator.related import RelatedIndex
    from aggregator.related._parse_store import parse_store
    from aggregator.related.analyze import document

    config = site_config(tmp_path)
    with open_storage(tmp_path / "store.sqlite") as storage:
        store_items(storage, config)
        parts = storage.item_key_bounds(3)
        assert len(parts) == 2  # three workers, each with its own part
        parsed = {n: parse_store(storage, config, processes=n) for n in (1, 3)}
        # Their documents and entries came over as columns: the same objects.
        for (batch, entries), (one_batch, one_entries) in [(parsed[3], parsed[1])]:
            assert entries == one_entries
            assert sorted(batch.docs, key=lambda d: d.key) == sorted(
                one_batch.docs, key=lambda d: d.key
            )
        built = {n: RelatedIndex.from_batch(parsed[n][0], SETTINGS) for n in (1, 3)}
        sources = {s.id: s for s in config.sources}
        documents = {s.key: document(s, sources) for s in storage.iter_items()}
    one, workers = built[1], built[3]
    assert workers.keys == one.keys
    assert dict(workers.lists()) == dict(one.lists())
    assert (workers.idf == one.idf).all() and (workers.term_hash == one.term_hash).all()
    rebuilt = dict(one.lists())
    assert sum(bool(v) for v in rebuilt.values()) >= 4  # lists to compare, not empties
    for key in sorted(documents):
        one.update([documents[key]], removed=[key])  # out, and in again (incremental)
        again = dict(one.lists())
        # The same entries in the same order; scores to float32 rounding (the
        # incremental vector is weighed in float64, then stored as float32).
        assert {k: [o for o, _ in v] for k, v in again.items()} == {
            k: [o for o, _ in v] for k, v in rebuilt.items()
        }, key
        for k, listed in again.items():
            assert [s for _, s in listed] == pytest.approx([s for _, s in rebuilt[k]], abs=1e-6)


def test_the_store_analysis_describes_each_entry_as_document_and_describe_entry_do(
    tmp_path: Path,
):
    """A rebuild works out an entry's document and its list item together (the plain
    text of its summary once for both): the same as each alone, whatever the lengths
    and markup of summary and content."""
    from aggregator.related._parse_store import parse_store
    from aggregator.related.analyze import describe_entry, document

    config = site_config(tmp_path)
    long_html = "<p>" + "Длинный абзац о событии в Астане, 35 тыс. тенге. " * 90 + "</p>"
    shapes = {
        "short-summary": ("<p>Короткое <b>резюме</b> &amp; всё</p>", "<p>Текст статьи.</p>"),
        "long-summary": (long_html, None),
        "no-summary": (None, "<div>Только <i>содержание</i> статьи</div>"),
        "empty-summary-long-content": ("", long_html),
        "markup-only-summary": ("<br/>", "<p>Содержание после пустого резюме.</p>"),
        "nothing": (None, None),
    }
    items = [
        Item(
            id=name,
            title=f"  Заголовок   {name} ",
            link=f"https://tengri.example.kz/news/{name}"
            if n % 2
            else "https://tengri.example.kz/",
            summary=summary,
            content=content,
            published=T0 + timedelta(hours=n),
            categories=("Общество",),
        )
        for n, (name, (summary, content)) in enumerate(shapes.items())
    ]
    with open_storage(tmp_path / "store.sqlite") as storage:
        storage.sync_sources(config.sources)
        record_fetch(storage, storage.get_source_state("tengri"), items, fetched_at=T0)
        batch, entries = parse_store(storage, config, processes=1)
        sources = {s.id: s for s in config.sources}
        stored = list(storage.iter_items())
    assert len(stored) == len(shapes) and len(entries) == len(shapes)
    parsed = {d.key: d for d in batch.docs}
    for item in stored:
        assert entries[item.key] == describe_entry(item, sources), item.item.id
        want = document(item, sources)
        got = parsed[item.key]
        assert replace(got, text_hash=0, sketch=b"") == replace(want, title="", text=""), item.key
    assert any(len(e.lead) > 150 for e in entries.values())


def test_the_related_command_with_nothing_new_touches_no_file_nor_the_index(
    store_at, tmp_path: Path
):
    """Both stores: a run of `aggregator related` after one that took in new items
    writes nothing, and neither does the next (PostgreSQL's change marks are transaction
    ids, not a sequence: a change seen once must not come back as new)."""
    config_file, args = related_site(store_at, tmp_path, rows=NEWS[:6])
    from aggregator.config import load_config

    config = load_config(config_file)
    assert CliRunner().invoke(cli, args).exit_code == 0
    with open_storage(store_at("aggregator")) as storage:
        store_items(storage, config, rows=NEWS[6:])
    updated = CliRunner().invoke(cli, args)
    assert updated.exit_code == 0, updated.output

    def files() -> dict[Path, int]:
        return {
            p: p.stat().st_mtime_ns
            for p in tmp_path.rglob("*")
            # the store, and the run lock's holder file (SQLite: <store>.lock)
            if p.is_file() and not p.name.startswith("aggregator.sqlite") and p.suffix != ".run"
        }

    before = files()
    for _ in range(2):
        again = CliRunner().invoke(cli, args)
        assert again.exit_code == 0, again.output
        assert "related index up to date" in again.output
        assert files() == before


def _related_files(out: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(out)): p.read_bytes()
        for p in sorted((out / "related").rglob("*.json"))
        if p.is_file()
    }


def test_an_emptied_output_directory_gets_every_related_file_back(store_at, tmp_path: Path):
    """A run that finds nothing new in the store still writes the related files when
    the output directory lacks them (emptied by hand, or publish.dir moved): the
    widget and the Atom entries' related links read them."""
    _, args = related_site(store_at, tmp_path)
    assert CliRunner().invoke(cli, args).exit_code == 0
    out = tmp_path / "output"
    before = _related_files(out)
    assert len(before) > len(NEWS)

    os.rename(out, tmp_path / "old-output")
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 0, again.output
    assert "does not hold this index's files" in again.output
    assert _related_files(out) == before
    assert CliRunner().invoke(cli, args).output.count("up to date") == 1


def test_a_widget_file_deleted_or_edited_is_put_back_though_nothing_else_changed(
    store_at, tmp_path: Path
):
    # Pages embedding the widget load related.js and related.css: a run that found the
    # index up to date left them deleted (or edited) until the next item came.
    _, args = related_site(store_at, tmp_path)
    assert CliRunner().invoke(cli, args).exit_code == 0
    out = tmp_path / "output"
    widget = {name: (out / name).read_bytes() for name in ("related.js", "related.css")}
    (out / "related.js").unlink()
    (out / "related.css").write_text("/* ours now */", encoding="utf-8")

    again = CliRunner().invoke(cli, args)

    assert "related index up to date" in again.output
    assert {name: (out / name).read_bytes() for name in widget} == widget


def test_an_export_cut_short_is_completed_by_the_next_run(store_at, tmp_path: Path):
    """A related run that saved its index and then failed writing the files (a full
    disk, here a directory in a file's place) leaves the rest for the next run, which
    finds nothing new in the store but writes them."""
    config_file, args = related_site(store_at, tmp_path, rows=NEWS[:6])
    from aggregator.config import load_config

    config = load_config(config_file)
    assert CliRunner().invoke(cli, args).exit_code == 0
    with open_storage(store_at("aggregator")) as storage:
        store_items(storage, config, rows=NEWS[6:])
        new = sorted({key_of(storage, row[0]) for row in NEWS[6:]})
    out = tmp_path / "output"
    blocked = out / "related" / f"{export.file_key(new[0])}.json"
    blocked.mkdir()
    failed = CliRunner().invoke(cli, args)
    assert failed.exit_code == 1, failed.output
    blocked.rmdir()

    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 0, again.output
    for key in new:
        assert (out / "related" / f"{export.file_key(key)}.json").is_file(), key
    written = _related_files(out)
    rebuilt = CliRunner().invoke(cli, [*args, "--rebuild"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert _related_files(out) == written


def test_files_of_an_older_export_format_are_all_written_again(store_at, tmp_path: Path):
    """An upgrade that spells the files otherwise (EXPORT_FORMAT: URL keys without
    utm_*) writes every one again on its first run, though the store did not change;
    here the output of the version before, whose marker named the index alone."""
    _, args = related_site(store_at, tmp_path)
    assert CliRunner().invoke(cli, args).exit_code == 0
    marker = tmp_path / "output" / "related" / ".exported"
    first_line = marker.read_text(encoding="ascii").splitlines()[0]
    marker.write_text(first_line.split()[-1], encoding="ascii")
    again = CliRunner().invoke(cli, args)
    assert "rebuilt" in again.output and "this version's format" in again.output
    assert "up to date" in CliRunner().invoke(cli, args).output


def test_turning_related_off_removes_its_published_files(store_at, tmp_path: Path):
    """With related.enabled false, the files an earlier run published go: left in place,
    embedded widgets would show lists that never change again.  Turned on again, the
    next run writes them all back, as they were."""
    config_file, args = related_site(store_at, tmp_path)
    on = config_file.read_text(encoding="utf-8")
    assert CliRunner().invoke(cli, args).exit_code == 0
    out = tmp_path / "output"
    before = _related_files(out)
    (out / "index.html").write_text("the site's own file", encoding="utf-8")

    config_file.write_text(on + "related: {enabled: false}\n", encoding="utf-8")
    off = CliRunner().invoke(cli, args)
    assert off.exit_code == 0, off.output
    assert "removed related.json, related.js, related.css, related" in off.output
    assert sorted(p.name for p in out.iterdir()) == ["index.html"]
    again = CliRunner().invoke(cli, args)
    assert "related.enabled is false" in again.output and "nothing to do" in again.output

    config_file.write_text(on, encoding="utf-8")
    back = CliRunner().invoke(cli, args)
    assert back.exit_code == 0, back.output
    assert _related_files(out) == before
    assert (out / "related.json").is_file() and (out / "related.js").is_file()


def test_turning_related_off_leaves_a_related_directory_that_is_not_ours(tmp_path: Path):
    """Only what the relate stage wrote goes: a site's own related/ (no marker, no
    related.json of ours) stays."""
    out = tmp_path / "output"
    (out / "related").mkdir(parents=True)
    (out / "related" / "notes.json").write_text("{}", encoding="utf-8")
    (out / "related.json").write_text('{"mine": true}', encoding="utf-8")
    config_file = tmp_path / "feeds.yaml"
    config_file.write_text(
        site_yaml(str(tmp_path / "store.db")) + "related: {enabled: false}\n", encoding="utf-8"
    )
    result = CliRunner().invoke(cli, ["--config", str(config_file), "related"])
    assert result.exit_code == 0, result.output
    assert "nothing to do" in result.output
    assert (out / "related" / "notes.json").is_file() and (out / "related.json").is_file()


def test_an_index_unread_for_a_month_is_rebuilt_without_the_entries_pruned_meanwhile(
    store_at, tmp_path: Path
):
    """The change log forgets a reader that has not read for 30 days and later tells it
    that everything changed, listing no removal: the entries pruned meanwhile would stay
    in the lists.  The index is rebuilt instead."""
    from datetime import UTC, datetime

    _, args = related_site(store_at, tmp_path)
    assert CliRunner().invoke(cli, args).exit_code == 0
    with open_storage(store_at("aggregator")) as storage:
        pruned = storage.prune(
            retention_days=1, keep_latest=2, now=datetime(2100, 1, 1, tzinfo=UTC)
        )
        assert 0 < pruned < len(NEWS)
        month_on = datetime.now(UTC) + timedelta(days=31)
        storage.changes_read("run", storage.item_changes(None)[0], now=month_on)

    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 0, again.output
    assert "no longer holds every change since" in again.output
    written = _related_files(tmp_path / "output")
    assert CliRunner().invoke(cli, [*args, "--rebuild"]).exit_code == 0
    assert _related_files(tmp_path / "output") == written


def test_a_source_removed_from_the_config_leaves_every_related_list_without_a_rebuild(
    store_at, tmp_path: Path, monkeypatch
):
    """Both stores: a source removed from feeds.yaml publishes nothing more, so no list
    may link to its entries (the store keeps them); the next run takes them out of the
    index, not rebuilding it, and added back the source's entries come back."""
    from aggregator.related import index

    # As in a store of thousands of entries, where a source's few are no reason to rebuild.
    drift = index.REBUILD_DRIFT
    monkeypatch.setattr(index, "REBUILD_DRIFT", 1.0)
    config_file, args = related_site(store_at, tmp_path)
    out = tmp_path / "output"

    def naming_vlast() -> list[str]:
        files = [out / "related.json", *(out / "related").rglob("*.json")]
        return [str(p) for p in files if "vlast.example.kz" in p.read_text(encoding="utf-8")]

    assert CliRunner().invoke(cli, args).exit_code == 0
    assert naming_vlast()  # school-b, fuel-b and the weather are related to others
    full = config_file.read_text(encoding="utf-8")
    config_file.write_text(
        "".join(line for line in full.splitlines(True) if "id: vlast" not in line), "utf-8"
    )
    removed = CliRunner().invoke(cli, args)
    assert removed.exit_code == 0, removed.output
    assert "rebuilt" not in removed.output and " -3 " in removed.output, removed.output
    assert naming_vlast() == []

    config_file.write_text(full, encoding="utf-8")
    back = CliRunner().invoke(cli, args)
    assert back.exit_code == 0, back.output
    assert "+3 -0" in back.output and "rebuilt" not in back.output, back.output
    assert naming_vlast()
    assert "up to date" in CliRunner().invoke(cli, args).output
    # Removed again where they are many: the index is rebuilt, without them.
    monkeypatch.setattr(index, "REBUILD_DRIFT", drift)
    config_file.write_text(
        "".join(line for line in full.splitlines(True) if "id: vlast" not in line), "utf-8"
    )
    rebuilt = CliRunner().invoke(cli, args)
    assert "rebuilt" in rebuilt.output and "; 7 entries;" in rebuilt.output, rebuilt.output
    assert naming_vlast() == []
