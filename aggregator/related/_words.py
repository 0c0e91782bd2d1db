"""The word table of the full build's analysis (:class:`Words`): what each distinct
word form of a language gives (its word hash, the term hashes of its stem, first
letters, name skeleton and figure; stop word or not), worked out once per form and
process, and a batch of texts turned into a :class:`~aggregator.related._documents.Batch`
by numpy over word numbers; with :class:`SharedForms`, the forms a rebuild's workers
share as they go.

Apart from ``analyze`` because it is a cache with its own life (it grows, starts over,
is shared between processes) and a second, faster path to the same terms that
``analyze._terms`` finds word by word (a test holds the two together); only the
speed depends on what the table holds."""

from __future__ import annotations

import os
import pickle
from itertools import repeat

import numpy as np

from aggregator.related import _arrays, _hashing
from aggregator.related._documents import Batch, Document
from aggregator.related.lexicon import figure_tokens, figure_words, skeleton
from aggregator.text import words as _text

BODY_TERMS = 150  # of a text's words (stop words aside), the first are counted


class Words:
    """What each distinct word form of one language gives, by word number: the hash
    of the word itself (for reprint sketches), the term hashes of its stem, of its
    first letters (0: none), of its name skeleton (0: too short) and of itself if it
    is a figure (0: not one), and whether it is a stop word or a figure.  The table
    starts over past ``_WORDS_MAX`` forms (a cache: only the speed changes)."""

    _tables: dict[str, Words] = {}
    # A rebuild's workers share the forms each works out (SharedForms), or None.
    shared: SharedForms | None = None
    _ARRAYS = ("word_hash", "stem_hash", "prefix_hash", "skeleton_hash", "has_skeleton")
    _ARRAYS += ("stop", "figure", "figure_hash", "numeric", "utf8_start", "utf8_size")

    def __init__(self, language: str) -> None:
        self.language = language
        self.size = 0  # forms in the table
        self.stop_words = _text.STOP_WORDS[language]
        size = 1024
        self.word_hash = np.zeros(size, np.int64)
        self.stem_hash = np.zeros(size, np.int64)
        self.prefix_hash = np.zeros(size, np.int64)
        self.skeleton_hash = np.zeros(size, np.int64)
        self.has_skeleton = np.zeros(size, bool)
        self.stop = np.zeros(size, bool)
        self.figure = np.zeros(size, bool)
        self.figure_hash = np.zeros(size, np.int64)
        self.numeric = np.zeros(size, bool)  # a word figure_tokens reads
        # Each form's UTF-8 followed by a space, in one buffer: the forms as strings
        # when needed (strings()), without a string a word in the table.
        self.utf8 = np.zeros(1 << 16, np.uint8)
        self.utf8_used = 0
        self.utf8_start = np.zeros(size, np.int64)
        self.utf8_size = np.zeros(size, np.int64)
        self.figure_words = figure_words(language)
        # The forms' token hashes (text.words.token_hashes), sorted, and their numbers:
        # a batch's tokens are looked up by hash (tokenize_batch), not by string.
        self.known = np.zeros(0, np.int64)
        self.known_number = np.zeros(0, np.int64)
        # Forms added a few at a time (an added entry's): merged into the sorted
        # arrays only once there are many, or each add would copy them.
        self.recent: dict[int, int] = {}

    @classmethod
    def of(cls, language: str) -> Words:
        table = cls._tables.get(language)
        if table is None or table.size > _WORDS_MAX:
            table = cls._tables[language] = cls(language)
        return table

    def ids(self, words: list[str]) -> np.ndarray:
        """The word numbers of ``words`` (tokens), new forms added."""
        hashes = _text.token_hashes(words)
        ids = self.find(hashes)
        new = np.flatnonzero(ids < 0)
        if len(new):
            new_words = list(map(words.__getitem__, new.tolist()))
            forms = dict(zip(new_words, hashes[new].tolist(), strict=True))
            self._add(list(forms), np.fromiter(forms.values(), np.int64, len(forms)))
            ids[new] = self.find(hashes[new])
        return ids

    def find(self, hashes: np.ndarray) -> np.ndarray:
        """The word numbers of forms by token hash (text.words.token_hashes); -1: not
        in the table."""
        found = np.full(len(hashes), -1, np.int64)
        if len(self.known) and len(hashes):
            at = np.minimum(_arrays.search(self.known, hashes), len(self.known) - 1)
            hit = self.known[at] == hashes
            found[hit] = self.known_number[at[hit]]
        if self.recent:
            missing = np.flatnonzero(found < 0)
            found[missing] = np.fromiter(
                map(self.recent.get, hashes[missing].tolist(), repeat(-1)), np.int64, len(missing)
            )
        return found

    def _add(self, words: list[str], hashes: np.ndarray | None = None) -> None:
        """New word forms into the table (``hashes``: their token hashes, if known)."""
        first = self.size
        end = self.size = first + len(words)
        self._grow(end)
        stems = _text.stem_words(words, self.language)
        data = np.frombuffer((" ".join(words) + " ").encode("utf-8", "surrogatepass"), np.uint8)
        self._add_utf8(data, first, end)
        self.word_hash[first:end] = _hashing.hash_all(words)
        self.stem_hash[first:end] = _hashing.term_hashes(stems)
        if self.language != "en":
            prefixed = [
                i for i, word in enumerate(words) if len(word) >= PREFIX_FROM and not word.isascii()
            ]
            if prefixed:
                prefixes = ["~" + words[i][:PREFIX] for i in prefixed]
                self.prefix_hash[np.array(prefixed) + first] = _hashing.term_hashes(prefixes)
        stop = self.stop_words
        self.stop[first:end] = np.fromiter(map(stop.__contains__, words), bool, len(words))
        numeric = self.figure_words
        self.numeric[first:end] = np.fromiter(map(numeric.__contains__, words), bool, len(words))
        if hashes is None:
            hashes = _text.token_hashes(words)
        self._known(hashes, first, end)
        figure = self.figure[first:end]
        figure[:] = np.fromiter(
            (word[0] == "n" and word[1:2].isdigit() for word in words), bool, len(words)
        )
        if figure.any():
            at = np.flatnonzero(figure)
            self.figure_hash[at + first] = _hashing.term_hashes([words[i] for i in at.tolist()])
        if Words.shared is not None:
            Words.shared.send(self, hashes, first, end)

    def _add_new(self, tokens: _text.TokenBatch, at: np.ndarray, hashes: np.ndarray) -> None:
        """A batch's new word forms (its tokens ``at``, their hashes ascending) into the
        table.  When workers share their forms, a slice at a time in this worker's
        direction (by hash: up in one worker, down in the other), taking the others'
        forms between slices: a form two workers meet in the same stretch is then
        mostly worked out by one of them (100,000 entries hold ~740,000 forms: the two
        worked out 743,000-823,000 in all taking the others' once a chunk, 747,000-
        790,000 so; it depends on how far apart they run)."""
        shared = Words.shared
        if shared is None or len(hashes) <= _FORMS_SLICE:
            self._add(tokens.words(at), hashes)
            return
        if shared.descending:
            at, hashes = at[::-1], hashes[::-1]
        for start in range(0, len(hashes), _FORMS_SLICE):
            part_at = at[start : start + _FORMS_SLICE]
            part = hashes[start : start + _FORMS_SLICE]
            if start and shared.receive():
                left = self.find(part) < 0
                part_at, part = part_at[left], part[left]
            if len(part):
                self._add(tokens.words(part_at), part)

    def _known(self, hashes: np.ndarray, first: int, end: int) -> None:
        """Forms ``first`` to ``end`` (their token hashes) found by :meth:`find` from now."""
        if len(self.recent) + end - first < _RECENT_MAX and end - first < _RECENT_MAX // 16:
            self.recent.update(zip(hashes.tolist(), range(first, end), strict=True))
        else:  # into the sorted arrays with the recent ones (not through the dict)
            recent = len(self.recent)
            hashes = np.concatenate([np.fromiter(self.recent, np.int64, recent), hashes])
            numbers = np.concatenate(
                [
                    np.fromiter(self.recent.values(), np.int64, recent),
                    np.arange(first, end, dtype=np.int64),
                ]
            )
            self.recent = {}
            order = _arrays.argsort(hashes)
            at = np.searchsorted(self.known, hashes[order])
            self.known = np.insert(self.known, at, hashes[order])
            self.known_number = np.insert(self.known_number, at, numbers[order])

    def _grow(self, end: int) -> None:
        """Room in the arrays for forms up to ``end``."""
        if end > len(self.word_hash):
            size = max(2 * end, 1024)
            for name in Words._ARRAYS:
                old = getattr(self, name)
                grown = np.zeros(size, old.dtype)
                grown[: len(old)] = old
                setattr(self, name, grown)

    def _add_utf8(self, data: np.ndarray, first: int, end: int) -> None:
        """The UTF-8 of forms ``first`` to ``end`` (each followed by a space) into the
        buffer."""
        ends = np.flatnonzero(data == 32)
        starts = np.concatenate([[0], ends[:-1] + 1])
        used = self.utf8_used
        if used + len(data) > len(self.utf8):
            grown = np.zeros(max(2 * len(self.utf8), used + len(data)), np.uint8)
            grown[:used] = self.utf8[:used]
            self.utf8 = grown
        self.utf8[used : used + len(data)] = data
        self.utf8_used += len(data)
        self.utf8_start[first:end] = starts + used
        self.utf8_size[first:end] = ends - starts

    def rows(self, first: int, end: int) -> tuple[np.ndarray, ...]:
        """What forms ``first`` to ``end`` give (the arrays :meth:`add_rows` takes but
        the token hashes, and their UTF-8 each followed by a space)."""
        utf8 = self.utf8[
            self.utf8_start[first] : self.utf8_start[end - 1] + self.utf8_size[end - 1] + 1
        ]
        return (*(getattr(self, name)[first:end] for name in _SHARED_ARRAYS), utf8.copy())

    def add_rows(self, hashes: np.ndarray, *rows: np.ndarray) -> None:
        """Forms another process worked out (their token hashes, and :meth:`rows`
        of them) into the table, those it has already left out."""
        keep = self.find(hashes) < 0
        if not keep.any():
            return
        *arrays, utf8 = rows
        sizes = np.diff(np.concatenate([[-1], np.flatnonzero(utf8 == 32)]))
        utf8 = utf8[np.repeat(keep, sizes)]
        first = self.size
        end = self.size = first + int(keep.sum())
        self._grow(end)
        for name, values in zip(_SHARED_ARRAYS, arrays, strict=True):
            getattr(self, name)[first:end] = values[keep]
        self._add_utf8(utf8, first, end)
        self._known(hashes[keep], first, end)

    def batch(self, texts: list[tuple[Document, str, str, set[str]]]) -> Batch:
        """The :class:`Batch` of texts of this language: (document, title, text,
        names: :func:`analyze._texts_of`) each.

        All at once: the batch's texts are tokenized together, its new word forms go
        into the table in one go, its words become word numbers in one pass, and
        terms are numbered in the batch's table (``terms``, sorted hashes) by word
        form, not by hash row by row."""
        n = len(texts)
        (title_ids, title_doc), (body_ids, body_doc) = self._numbered(
            [text for _, title, body, _ in texts for text in (title, body)]
        )
        name_words = [t for _, _, _, names in texts for t in names]
        name_doc = np.repeat(np.arange(n), [len(names) for _, _, _, names in texts])
        name_ids = self.find(_text.token_hashes(name_words))
        name_keys = np.sort(name_doc[name_ids >= 0] << 32 | name_ids[name_ids >= 0])
        columns = [
            self._counted(title_ids, title_doc, name_keys, None),
            self._counted(body_ids, body_doc, name_keys, BODY_TERMS),
        ]
        terms, numbers = self._term_table(columns)
        named: list[np.ndarray] = []  # doc << 32 | term number
        title, body = (
            (nums, counts, _lengths(doc, n))
            for nums, counts, doc in (self._column(*c, numbers, terms, named) for c in columns)
        )
        names = _arrays.unique(_arrays.concat(named))
        names_doc = names >> 32
        sketches = self._sketches(
            np.concatenate([title_ids, body_ids]), np.concatenate([title_doc, body_doc]), n
        )
        text_hashes = self._text_hashes(title_ids, title_doc, body_ids, body_doc, n)
        # Made anew, not by dataclasses.replace (several times slower).
        docs = [
            Document(d.key, d.published, "", "", d.tags, d.language, d.link, d.version, h, sketch)
            for (d, _, _, _), h, sketch in zip(texts, text_hashes.tolist(), sketches, strict=True)
        ]
        return Batch(
            docs,
            title,
            body,
            (
                (names & 0xFFFFFFFF).astype(np.int32),
                np.zeros(0, np.int16),
                _lengths(names_doc, n),
            ),
            terms=terms,
        )

    def _numbered(
        self, texts: list[str]
    ) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
        """(word numbers, text number of each) of the words of titles and of texts, all
        in a row: ``texts`` is title, text, title, text... of each document.  Tokenized
        all at once (text.words.tokenize_batch), the tokens looked up by hash; a text
        holding number words goes through figure_tokens, as _words_of does."""
        tokens = _text.tokenize_batch(texts)
        order = _arrays.argsort(tokens.hashes)
        hashes = tokens.hashes[order]
        first = np.ones(len(hashes), bool)
        np.not_equal(hashes[1:], hashes[:-1], out=first[1:])
        distinct = hashes[first]
        numbers = self.find(distinct)
        new = np.flatnonzero(numbers < 0)
        if len(new) and Words.shared is not None and Words.shared.receive():
            numbers[new] = self.find(distinct[new])
            new = np.flatnonzero(numbers < 0)
        if len(new):
            self._add_new(tokens, order[first][new], distinct[new])
            numbers[new] = self.find(distinct[new])
        ids = np.empty(len(hashes), np.int64)
        ids[order] = numbers[np.cumsum(first) - 1]
        text = tokens.text
        numeric = np.flatnonzero(self.numeric[ids])
        if len(numeric):
            ids, text = self._figures(ids, text, np.unique(text[numeric]))
        title = (text & 1) == 0
        return (ids[title], text[title] >> 1), (ids[~title], text[~title] >> 1)

    def _figures(
        self, ids: np.ndarray, text: np.ndarray, numeric: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(word numbers, text numbers) with the texts ``numeric`` (their numbers,
        sorted) read by figure_tokens: number words made figures."""
        bounds = np.searchsorted(text, np.stack([numeric, numeric + 1]))
        ids_parts, text_parts = [], []
        done = 0
        for t, start, stop in zip(numeric.tolist(), *bounds.tolist(), strict=True):
            tokens = self.strings(ids[start:stop])
            figured = figure_tokens(tokens, self.language)
            if figured == tokens:
                continue
            ids_parts += [ids[done:start], self.ids(figured)]
            text_parts += [text[done:start], np.full(len(figured), t, np.int64)]
            done = stop
        if not done:
            return ids, text
        return _arrays.concat([*ids_parts, ids[done:]]), _arrays.concat([*text_parts, text[done:]])

    def _text_hashes(
        self,
        title_ids: np.ndarray,
        title_doc: np.ndarray,
        body_ids: np.ndarray,
        body_doc: np.ndarray,
        n: int,
    ) -> np.ndarray:
        """:func:`_hashing.text_hash` of each document's words (word numbers, text numbers
        ascending: title words, then text words, each in order)."""
        return _hashing.text_hashes(
            self.word_hash[title_ids], title_doc, self.word_hash[body_ids], body_doc, n
        )

    def _counted(
        self, ids: np.ndarray, doc: np.ndarray, name_keys: np.ndarray, limit: int | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(text, word number, count, is a name) of each distinct word of each text,
        stop words dropped, the first ``limit`` words of a text counted."""
        keep = ~self.stop[ids]
        ids, doc = ids[keep], doc[keep]
        if limit is not None:
            # Each word's place in its text (texts ascending): from where each text's
            # words start, not by searching ~1,000,000 of them for their text's first.
            sizes = np.bincount(doc)
            rank = np.arange(len(doc)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
            ids, doc = ids[rank < limit], doc[rank < limit]
        keys, counts = np.unique(doc << 32 | ids, return_counts=True)
        is_name = np.zeros(len(keys), bool)
        if len(keys) and len(name_keys):
            at = np.minimum(np.searchsorted(keys, name_keys), len(keys) - 1)
            is_name[at[keys[at] == name_keys]] = True
        return keys >> 32, keys & 0xFFFFFFFF, counts, is_name

    def _term_table(self, columns: list[tuple]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """The batch's terms (sorted hashes: every stem, prefix and figure of the words
        it counts, and the skeletons of its names), and each word form's term numbers
        in it (stem, prefix, figure: arrays by word number, -1 where none)."""
        used = np.zeros(self.size, bool)
        for _, ids, _, _ in columns:
            used[ids] = True
        forms = np.flatnonzero(used)
        prefix = self.prefix_hash[forms]
        figures = forms[self.figure[forms]]
        bones = [self._skeletons(ids[is_name]) for _, ids, _, is_name in columns]
        terms = _arrays.unique(
            np.concatenate(
                [self.stem_hash[forms], prefix[prefix != 0], self.figure_hash[figures], *bones]
            )
        )
        numbers = {}
        for name, hashes, at in (
            ("stem", self.stem_hash[forms], forms),
            ("prefix", prefix[prefix != 0], forms[prefix != 0]),
            ("figure", self.figure_hash[figures], figures),
        ):
            number = np.full(self.size, -1, np.int64)
            number[at] = _arrays.search(terms, hashes)
            numbers[name] = number
        return terms, numbers

    def _column(
        self,
        doc: np.ndarray,
        ids: np.ndarray,
        counts: np.ndarray,
        is_name: np.ndarray,
        numbers: dict[str, np.ndarray],
        terms: np.ndarray,
        named: list[np.ndarray],
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(term numbers, counts, terms per text) of a column's distinct words (see
        :meth:`_counted`), as :meth:`terms` gives them text by text; its names and
        figures (text << 32 | term number) into ``named``."""
        prefix = numbers["prefix"][ids]
        has_prefix = prefix >= 0
        docs = [doc, doc[has_prefix]]
        nums = [numbers["stem"][ids], prefix[has_prefix]]
        weights = [counts, counts[has_prefix]]
        figure = self.figure[ids]
        named.append(doc[figure] << 32 | numbers["figure"][ids[figure]])
        if is_name.any():
            bones = self._skeletons(ids[is_name])
            has_bone = bones != 0
            bone_nums = np.searchsorted(terms, bones[has_bone])
            name_doc = doc[is_name]
            docs.append(name_doc[has_bone])
            nums.append(bone_nums)
            weights.append(counts[is_name][has_bone])
            named.append(name_doc[has_bone] << 32 | bone_nums)
            named.append(name_doc << 32 | numbers["stem"][ids[is_name]])
        # The term number in as few bits as it takes: a key and its count then fit
        # in one int64 (_arrays.summed).
        shift = max(len(terms), 1).bit_length()
        keys, total = _arrays.summed(
            _arrays.concat(docs) << shift | _arrays.concat(nums), _arrays.concat(weights)
        )
        nums = (keys & ((1 << shift) - 1)).astype(np.int32)
        return nums, total.astype(np.int16), keys >> shift

    def _sketches(self, ids: np.ndarray, doc: np.ndarray, n: int) -> list[bytes]:
        """:func:`_hashing.sketch` of each text's words (word numbers, text numbers: each
        text's words in order, texts in any order)."""
        small = np.uint16 if n <= 0xFFFF else np.int64  # a radix sort for 16 bits
        order = np.argsort(doc.astype(small), kind="stable")
        ids, doc = ids[order], doc[order]
        sizes = np.bincount(doc, minlength=n)
        h = self.word_hash[ids].view(np.uint64)
        if len(h) < 3:
            return [b""] * n
        with np.errstate(over="ignore"):
            shingles = h[:-2] * _hashing.SHINGLE_A + h[1:-1] * _hashing.SHINGLE_B + h[2:]
        owner = doc[:-2]
        inside = (owner == doc[2:]) & (sizes[owner] >= _hashing.SKETCH_MIN_WORDS)
        shingles, owner = shingles[inside], owner[inside]
        # Only a text's smallest shingles can be in its sketch: first those under a
        # bar that leaves about 4 sketches' worth of them (shingles spread evenly
        # over 64 bits), so that far fewer are sorted; a text left with fewer
        # distinct ones than a sketch holds is sketched again from all of its own.
        counts = np.bincount(owner, minlength=n)
        spare = 4 * _hashing.SKETCH_SIZE
        bar = np.full(n, np.iinfo(np.uint64).max, np.uint64)
        many = counts > spare
        bar[many] = (2.0**64 * spare / counts[many]).astype(np.uint64)
        under = shingles <= bar[owner]
        kept = np.bincount(owner[under], minlength=n)
        sketch, sketch_owner, distinct = _hashing.bottom(shingles[under], owner[under], n)
        short = (distinct < _hashing.SKETCH_SIZE) & (kept < counts)
        if short.any():
            again = under | short[owner]
            sketch, sketch_owner, distinct = _hashing.bottom(shingles[again], owner[again], n)
        bounds = np.concatenate([[0], np.cumsum(np.bincount(sketch_owner, minlength=n))])
        return [sketch[bounds[i] : bounds[i + 1]].tobytes() for i in range(n)]

    def _skeletons(self, ids: np.ndarray) -> np.ndarray:
        """The skeleton hashes of names (worked out when a word is first a name)."""
        new = np.unique(ids[~self.has_skeleton[ids]])
        if len(new):
            words = self.strings(new)
            stems = _text.stem_words(words, self.language)
            for n, word, stem in zip(new.tolist(), words, stems, strict=True):
                # Latin words unstemmed: the skeleton must not depend on the stemmer's
                # language (Wildberries / Вайлдберриз).
                bone = skeleton(word if word.isascii() else stem)
                self.skeleton_hash[n] = (
                    _hashing.term_hash(f"~s:{bone}") if len(bone) >= SKELETON_MIN else 0
                )
            self.has_skeleton[new] = True
        return self.skeleton_hash[ids]

    def strings(self, ids: np.ndarray) -> list[str]:
        """The word forms of word numbers, as strings (from the UTF-8 buffer)."""
        if not len(ids):
            return []
        sizes = self.utf8_size[ids] + 1  # with the space after each
        ends = np.cumsum(sizes)
        at = np.arange(ends[-1]) + np.repeat(self.utf8_start[ids] - ends + sizes, sizes)
        return self.utf8[at].tobytes().decode("utf-8", "surrogatepass").split(" ")[:-1]

    def terms(
        self,
        ids: np.ndarray,
        names: set[str],
        named: list[np.ndarray],
        limit: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(sorted term hashes, counts) of a text's words (as :func:`analyze._terms`); the
        hashes of its names and figures go into ``named``."""
        ids = ids[~self.stop[ids]][:limit]
        if not len(ids):
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        distinct, counts = np.unique(ids, return_counts=True)
        prefix = self.prefix_hash[distinct]
        has_prefix = prefix != 0
        hashes = [self.stem_hash[distinct], prefix[has_prefix]]
        weights = [counts, counts[has_prefix]]
        named.append(self.figure_hash[distinct[self.figure[distinct]]])
        name_ids = self.find(_text.token_hashes(list(names)))
        name_ids = name_ids[name_ids >= 0]
        if len(name_ids):
            is_name = np.isin(distinct, name_ids)
            if is_name.any():
                bones = self._skeletons(distinct[is_name])
                has_bone = bones != 0
                hashes.append(bones[has_bone])
                weights.append(counts[is_name][has_bone])
                named += [bones[has_bone], self.stem_hash[distinct[is_name]]]
        terms, where = np.unique(np.concatenate(hashes), return_inverse=True)
        return terms, np.bincount(where, weights=np.concatenate(weights)).astype(np.int64)


def _lengths(doc: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(doc, minlength=n).astype(np.int32)


# What a form's table row holds that another process's table can take as it is (the
# name skeleton is worked out when a word is first a name).
_SHARED_ARRAYS = ("word_hash", "stem_hash", "prefix_hash", "stop", "figure", "figure_hash")
_SHARED_ARRAYS += ("numeric",)


class SharedForms:
    """The word forms a full rebuild's workers work out, shared between them: each
    writes the rows of the forms it adds to its table (stem, hashes: ~5 us a form) to
    a file of its own as it goes, and before adding new forms takes those the others
    have written since it last looked.  Nobody waits: a form two workers meet in the
    same stretch is worked out by both, but most forms one meets another met earlier
    (at 100,000 entries, 400,000 of the ~500,000 both halves hold).  Only the speed
    changes: a form's row is the same whoever works it out."""

    def __init__(self, directory: str, part: int, parts: int) -> None:
        self.out = open(f"{directory}/forms-{part}", "wb")  # noqa: SIM115 - closed by close()
        self.others = [[f"{directory}/forms-{k}", 0] for k in range(parts) if k != part]
        self.descending = part % 2 == 1  # the way this worker goes through new forms

    def send(self, table: Words, hashes: np.ndarray, first: int, end: int) -> None:
        """Forms ``first`` to ``end`` of ``table`` (their token hashes) to the others."""
        record = pickle.dumps(
            (table.language, hashes, *table.rows(first, end)), protocol=pickle.HIGHEST_PROTOCOL
        )
        self.out.write(len(record).to_bytes(8, "little") + record)
        self.out.flush()

    def receive(self) -> bool:
        """The forms the others have written since the last call into the tables;
        whether there were any."""
        got = False
        for other in self.others:
            name, done = other
            try:
                f = open(name, "rb")  # noqa: SIM115 - closed below
            except FileNotFoundError:
                continue  # that worker has not started
            with f:
                size = os.fstat(f.fileno()).st_size
                f.seek(done)
                while done + 8 <= size:
                    length = int.from_bytes(f.read(8), "little")
                    if done + 8 + length > size:
                        break  # still being written
                    language, hashes, *rows = pickle.loads(f.read(length))  # noqa: S301 - ours
                    Words.of(language).add_rows(hashes, *rows)
                    done += 8 + length
                    got = True
            other[1] = done
        return got

    def close(self) -> None:
        self.out.close()


_WORDS_MAX = 2_000_000  # word forms per language before the table starts over
_RECENT_MAX = 65_536  # forms added apart before they join the sorted arrays
_FORMS_SLICE = 8192  # new forms worked out between looks at the other workers' (shared)


PREFIX_FROM = 6  # words this long also count by their first letters
PREFIX = 5
SKELETON_MIN = 3  # consonants; shorter skeletons (Ялта: "lt") would join unrelated names
