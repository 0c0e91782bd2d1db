"""The whole store analyzed for a full build (:func:`parse_store`): worker processes
each read and analyze their own part of the store (by key), write the results to a file
a chunk at a time, and this process reads them back as columns and joins them.

Apart from ``analyze`` because it is the I/O and the processes around the analysis
(the store read, files written and read back, a pool started and joined); what a chunk
of items becomes is ``analyze``'s (:func:`~aggregator.related.analyze.parse_batch`)."""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from itertools import repeat
from typing import BinaryIO

import numpy as np

from aggregator import procs
from aggregator.config import Config, SourceConfig
from aggregator.models import ItemText, configured
from aggregator.related._documents import Batch, Document, Documents
from aggregator.related._words import SharedForms, Words
from aggregator.related.analyze import MAX_PROCESSES, Entry, document_and_entry, parse_batch
from aggregator.store import Storage, open_storage


def _parse_store_part(
    store_path: str,
    config: Config,
    key_range: tuple[str | None, str | None],
    out: str,
    shared: tuple[str, int, int] | None = None,
) -> str:
    """Analyze the stored entries of ``key_range`` (a worker's share: it reads only
    those); write the results into the file ``out`` a chunk at a time, and return its name.
    ``shared``: (directory, this worker's number, the number of workers) of the word
    forms the workers share (:class:`SharedForms`).

    A file, written as it goes: the worker keeps one chunk, not its whole share, and
    pickling a large result in memory would double the worker's memory at its peak."""
    sources = config.publishing_sources()
    if shared is not None:
        Words.shared = SharedForms(*shared)
    try:
        with open(out, "wb") as f, open_storage(store_path) as storage:
            items = storage.iter_item_texts(key_range=key_range)
            for batch, entries in _parsed_chunks(items, sources):
                _write_chunk(f, batch, entries)
    finally:
        if Words.shared is not None:
            Words.shared.close()
            Words.shared = None
    return out


def _parsed_chunks(
    items: Iterable[ItemText], sources: Mapping[str, SourceConfig]
) -> Iterator[tuple[Batch, list[Entry]]]:
    """Stored items analyzed (:func:`parse_batch`) and described, ``_CHUNK`` at a time;
    only those a source in ``sources`` gave (``models.configured``)."""
    docs: list[Document] = []
    entries: list[Entry] = []
    for item in items:
        if not configured(item.source_ids, sources):
            continue
        doc, entry = document_and_entry(item, sources)
        docs.append(doc)
        entries.append(entry)
        if len(docs) == _CHUNK:
            yield parse_batch(docs), entries
            docs, entries = [], []
    yield parse_batch(docs), entries


_CHUNK = 4096  # documents: small arrays cost ~100 bytes each, so they go in chunks


def _write_chunk(f: BinaryIO, batch: Batch, entries: list[Entry]) -> None:
    # The arrays with np.save (streamed from their buffers, no copy); the documents
    # and entries as columns: lists of strings and arrays pickle in C, where objects
    # (a dataclass each) pickled and unpickled one by one cost ~8 us apiece, most of
    # it in this process's reading after the workers are done, with one core idle.
    # The chunk's document frequency too: counted here, in parallel, not by the main
    # process over every document after the workers are done.
    for column in (batch.title, batch.body, batch.names, (batch.terms,)):
        for array in column:
            np.save(f, array, allow_pickle=False)
    np.save(f, batch.document_frequency().astype(np.int32), allow_pickle=False)
    sources: dict[str, int] = {}  # entries share their few sources
    source_numbers = np.fromiter(
        (sources.setdefault(e.source, len(sources)) for e in entries), np.int32
    )
    columns = (
        *Documents.of(batch.docs).columns(),
        [e.title for e in entries],
        [e.url for e in entries],
        [e.lead for e in entries],
        source_numbers,
        list(sources),
    )
    pickle.dump(columns, f, protocol=pickle.HIGHEST_PROTOCOL)


def _read_share(name: str) -> tuple[list[Batch], list[Entry]]:
    """What _parse_store_part wrote: its chunks (joined once, with the other shares'),
    and the entries."""
    batches: list[Batch] = []
    entries: list[Entry] = []
    size = os.path.getsize(name)
    with open(name, "rb") as f:
        while f.tell() < size:
            columns = [tuple(np.load(f, allow_pickle=False) for _ in range(3)) for _ in range(3)]
            terms = np.load(f, allow_pickle=False)
            df = np.load(f, allow_pickle=False)
            docs, chunk_entries = _from_columns(pickle.load(f))  # noqa: S301 - our worker's
            batches.append(Batch(docs, *columns, terms=terms, df=df))
            entries.extend(chunk_entries)
    return batches, entries


def _from_columns(columns: tuple) -> tuple[Documents, list[Entry]]:
    """The documents and entries of a chunk :func:`_write_chunk` wrote."""
    docs = Documents(*columns[:9])
    keys, times = docs.keys, docs.times
    titles, urls, leads, source_numbers, sources = columns[9:]
    # The times were read from the store as UTC (what the entries show): the same.
    published = list(map(datetime.fromtimestamp, times.tolist(), repeat(UTC)))
    entries = list(
        map(
            Entry,
            keys,
            titles,
            urls,
            leads,
            published,
            map(sources.__getitem__, source_numbers.tolist()),
        )
    )
    return docs, entries


_PARALLEL_FROM = 5000  # entries; below, starting processes costs more than it saves


def parse_store(
    storage: Storage,
    config: Config,
    *,
    processes: int | None = None,
    analyzed: Callable[[], object] | None = None,
) -> tuple[Batch, dict[str, Entry]]:
    """Every stored entry analyzed, and described for the outputs; by ``processes``
    worker processes (default: one per available core, up to ``MAX_PROCESSES``, and
    none for a small store).  ``analyzed``: called once every entry is analyzed and
    the workers are gone, before their results are read (the caller starts what comes
    next: the index's workers import meanwhile)."""
    if processes is None:
        try:
            cores = len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            cores = os.cpu_count() or 1
        processes = min(cores, MAX_PROCESSES)
        if storage.items_count() < _PARALLEL_FROM:
            processes = 1
    if processes < 2:
        sources = config.publishing_sources()
        chunks = list(_parsed_chunks(storage.iter_item_texts(), sources))
        shares = [([b for b, _ in chunks], [e for _, entries in chunks for e in entries])]
        if analyzed is not None:
            analyzed()
    else:
        # Each worker reads its own part of the store (by key) and analyzes it:
        # sending the texts over would cost the main process as much as analyzing them.
        edges = [None, *storage.item_key_bounds(processes), None]
        ranges = list(zip(edges, edges[1:], strict=False))
        with procs.scratch_directory("related") as temp:
            pool = procs.pool(len(ranges))  # workers that die with this process
            try:
                files = pool.starmap(
                    _parse_store_part,
                    [
                        (
                            storage.location,
                            config,
                            key_range,
                            f"{temp}/{part}.pickle",
                            (temp, part, len(ranges)),
                        )
                        for part, key_range in enumerate(ranges)
                    ],
                )
            finally:
                pool.close()
                pool.join()  # the workers' memory is free before the results are read
            if analyzed is not None:
                analyzed()
            shares = []
            for name in files:
                shares.append(_read_share(name))
                os.unlink(name)
    entries = {e.key: e for _, share_entries in shares for e in share_entries}
    # Every chunk joined at once: its term numbers renumbered once, not per share too.
    batches = [b for chunks, _ in shares for b in chunks]
    del shares
    return Batch.join(batches, consume=True), entries
