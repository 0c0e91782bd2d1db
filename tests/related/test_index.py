"""related.index: ranking, stories and incremental updates of the related index."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import numpy as np
from news import (
    NEWS,
    SETTINGS,
    T0,
    corpus,
    doc,
    keys,
)

from aggregator.related import (
    RelatedIndex,
)
from aggregator.related._build import build_workers
from aggregator.related.analyze import parse_batch

# --- ranking -------------------------------------------------------------------------


def test_the_same_event_in_other_words_is_related_first():
    index = RelatedIndex.build(corpus(), SETTINGS)
    assert keys(index, "school-a")[0] == "school-b"
    assert keys(index, "school-b")[0] == "school-a"
    assert keys(index, "fuel-a")[0] == "fuel-b"


def test_kazakh_and_english_entries_find_their_partners():
    index = RelatedIndex.build(corpus(), SETTINGS)
    assert keys(index, "bridge-kk-a")[:1] == ["bridge-kk-b"]
    assert keys(index, "quake-en-a")[:1] == ["quake-en-b"]


def test_an_entry_with_nothing_related_gets_an_empty_list_not_a_bad_one():
    index = RelatedIndex.build(corpus(), SETTINGS)
    assert index.related("weather") == []
    assert all(score >= SETTINGS.min_score for k in index.keys for _, score in index.related(k))


def test_lists_hold_at_most_count_entries_best_first():
    index = RelatedIndex.build(corpus(), replace(SETTINGS, count=2, min_score=0.0))
    for key in index.keys:
        scores = [s for _, s in index.related(key)]
        assert len(scores) <= 2
        assert scores == sorted(scores, reverse=True)


def test_a_lightly_edited_reprint_is_the_same_story_and_never_fills_a_list():
    docs = corpus()
    reprint = doc(
        "school-reprint",
        1,
        NEWS[0][2],
        "Как сообщает «Степной вестник»: " + NEWS[0][3],
        NEWS[0][4],
    )
    index = RelatedIndex.build([*docs, reprint], SETTINGS)
    assert "school-reprint" not in keys(index, "school-a")
    assert "school-a" not in keys(index, "school-reprint")
    # A third entry lists one telling of the story, not both.
    assert len({"school-a", "school-reprint"} & set(keys(index, "school-b"))) == 1


def test_entries_sharing_a_canonical_link_are_one_story():
    docs = corpus()
    docs[0] = replace(docs[0], link="https://example.kz/news/1")
    docs[1] = replace(docs[1], link="https://example.kz/news/1")
    index = RelatedIndex.build(docs, SETTINGS)
    assert "school-b" not in keys(index, "school-a")


def test_exclude_keeps_a_commentary_and_its_source_item_apart():
    index = RelatedIndex.build(corpus(), SETTINGS, exclude={"fuel-b": {"fuel-a"}})
    assert "fuel-a" not in keys(index, "fuel-b")
    assert "fuel-b" not in keys(index, "fuel-a")


def test_entries_further_apart_than_the_window_are_not_compared():
    docs = corpus()
    docs[1] = replace(docs[1], published=T0 + timedelta(days=40))
    index = RelatedIndex.build(docs, replace(SETTINGS, window=30 * 86400))
    assert "school-b" not in keys(index, "school-a")


def test_shared_tags_raise_the_score():
    plain = RelatedIndex.build(corpus(), replace(SETTINGS, tag_weight=0.0))
    tagged = RelatedIndex.build(corpus(), replace(SETTINGS, tag_weight=0.5))
    assert dict(tagged.related("fuel-a"))["fuel-b"] > dict(plain.related("fuel-a"))["fuel-b"]


def test_a_recent_candidate_outranks_an_equal_older_one():
    docs = corpus()
    # The same words in another order: not the same text (that would be a reprint).
    twin = replace(
        docs[1],
        key="school-b-old",
        published=T0 - timedelta(days=20),
        text=" ".join(reversed(docs[1].text.split())),
    )
    index = RelatedIndex.build([*docs, twin], replace(SETTINGS, duplicate_threshold=1.01))
    listed = keys(index, "school-a")
    assert listed.index("school-b") < listed.index("school-b-old")


def test_the_same_input_gives_the_same_lists():
    first = RelatedIndex.build(corpus(), SETTINGS)
    second = RelatedIndex.build(list(reversed(corpus())), SETTINGS)
    assert list(first.lists()) == sorted(second.lists(), key=lambda kl: first.keys.index(kl[0]))


def test_an_index_built_by_worker_processes_is_the_one_built_alone(monkeypatch):
    # Blocks of 8 rows: the build hands several chunks of blocks to each worker.
    monkeypatch.setattr("aggregator.related.index._BLOCK_ROWS", 8)
    monkeypatch.setattr("aggregator.related.index._WEIGH_ROWS", 16)
    docs = [
        replace(d, key=f"{d.key}-{copy}", published=d.published + timedelta(days=9 * copy))
        for copy in range(3)
        for d in corpus()
    ]
    exclude = {"fuel-b-1": {"fuel-a-1"}}

    def built(processes: int) -> RelatedIndex:
        return RelatedIndex.from_batch(
            parse_batch(docs), SETTINGS, exclude=exclude, processes=processes
        )

    alone, workers = built(1), built(2)
    assert list(workers.lists()) == list(alone.lists())
    # Workers started before (as a rebuild starts them while it reads the analysis's
    # results) build the same index.
    monkeypatch.setattr("aggregator.related._build._PARALLEL_FROM", 2)
    with build_workers(len(docs)) as started:
        given = RelatedIndex.from_batch(
            parse_batch(docs), SETTINGS, exclude=exclude, workers=started
        )
    assert list(given.lists()) == list(alone.lists())
    assert workers.stories() == alone.stories()
    assert workers.stories()  # the copies of a text are one story
    assert "fuel-a-1" not in keys(workers, "fuel-b-1")
    # Everything saved: the vectors the workers weighed too, bit for bit.
    saved_alone, saved_workers = alone.state()[1], workers.state()[1]
    assert saved_alone.keys() == saved_workers.keys()
    for name, array in saved_alone.items():
        assert np.array_equal(saved_workers[name], array), name


def test_chunks_counted_apart_and_joined_give_every_documents_frequency():
    """The full build's workers count each chunk's document frequency (a term in a
    title and its text counts once); the join adds them up: what the index's IDF
    reads, as counted over every document at once."""
    from aggregator.related.analyze import Batch

    docs = corpus()
    first, second = parse_batch(docs[:7]), parse_batch(docs[7:])
    for chunk in (first, second):
        chunk.document_frequency()  # as a worker does before writing it
    joined = Batch.join([first, second, parse_batch(docs[:2])])  # the last: no count
    whole = parse_batch([*docs, *docs[:2]])
    counted = dict.fromkeys(whole.terms.tolist(), 0)  # a name alone: 0
    for n in range(len(whole.docs)):
        title, body = (
            column[0][column[2][:n].sum() : column[2][: n + 1].sum()]
            for column in (whole.title, whole.body)
        )
        for term in set(whole.terms[title].tolist()) | set(whole.terms[body].tolist()):
            counted[term] = counted.get(term, 0) + 1
    assert joined.terms.tolist() == whole.terms.tolist()
    assert dict(zip(joined.terms.tolist(), joined.df.tolist(), strict=True)) == counted
    assert whole.document_frequency().tolist() == joined.df.tolist()


def test_a_vector_keeps_its_heaviest_stems_and_of_equal_ones_the_lower_columns():
    import scipy.sparse as sp

    from aggregator.related._sparse import keep_heaviest

    weights = np.array(
        [
            [0.5, 0.2, 0.9, 0.2, 0.2],  # one of three equal weights fits: the first
            [0.1, 0.0, 0.3, 0.0, 0.0],  # fewer than three: all stay
            [0.4, 0.4, 0.4, 0.4, 0.1],  # four equal: the first three
        ],
        np.float32,
    )
    kept = keep_heaviest(sp.csr_matrix(weights), 3).toarray()
    assert (
        kept.tolist()
        == np.array(
            [[0.5, 0.2, 0.9, 0.0, 0.0], [0.1, 0.0, 0.3, 0.0, 0.0], [0.4, 0.4, 0.4, 0.0, 0.0]],
            np.float32,
        ).tolist()
    )


# --- incremental updates ----------------------------------------------------------------


def test_adding_an_entry_updates_its_list_and_the_lists_it_enters_only():
    docs = corpus()
    index = RelatedIndex.build([d for d in docs if d.key != "fuel-b"], SETTINGS)
    before = dict(index.lists())
    changed = index.add(next(d for d in docs if d.key == "fuel-b"))
    assert keys(index, "fuel-b")[0] == "fuel-a"
    assert keys(index, "fuel-a")[0] == "fuel-b"
    assert changed >= {"fuel-a", "fuel-b"}
    for key, listed in index.lists():
        if key not in changed:
            assert listed == before[key]


def test_removing_entries_takes_them_out_of_every_list():
    index = RelatedIndex.build(corpus(), SETTINGS)
    changed = index.update([], removed=["school-b"])
    assert "school-b" not in index
    assert "school-a" in changed
    assert all("school-b" not in keys(index, k) for k in index.keys)


def test_an_edited_entry_is_reanalyzed():
    index = RelatedIndex.build(corpus(), SETTINGS)
    assert keys(index, "weather") == []
    edited = doc("weather", 50, NEWS[3][2], NEWS[3][3], version="2")  # fuel-a, reprinted
    index.update([edited])
    assert keys(index, "weather") == ["fuel-b"]  # fuel-a is the same story


# --- reprints and retellings; what counts as evidence ----------------------------------

DEATH_A = doc(
    "death-a",
    0,
    "Скончалась народная артистка Казахстана Бибигуль Тулегенова",
    "Певица ушла из жизни на 97-м году жизни, сообщили в министерстве культуры.",
)
DEATH_B = doc(
    "death-b",
    2,
    "Умерла народная артистка Казахстана Бибигуль Тулегенова",
    "Об уходе оперной певицы сообщили родственники. Прощание пройдет в Алматы.",
)


def test_a_retelling_differing_by_one_headline_word_is_listed_first():
    index = RelatedIndex.build([*corpus(), DEATH_A, DEATH_B], SETTINGS)
    assert keys(index, "death-a")[:1] == ["death-b"]
    assert keys(index, "death-b")[:1] == ["death-a"]


def test_a_reprint_of_the_same_body_is_grouped_even_under_another_headline():
    body = NEWS[0][3] + " Торжественная линейка прошла утром."
    a = doc("same-a", 0, "Новая школа открылась в Караганде", body)
    b = doc("same-b", 1, "В Караганде заработала школа на 1200 мест", "Сообщает КазТАГ. " + body)
    index = RelatedIndex.build([*corpus(), a, b], SETTINGS)
    assert "same-b" not in keys(index, "same-a")
    story = ["same-a", "same-b"]
    assert index.story_of("same-a") == index.story_of("same-b") == story
    assert len(set(story) & set(keys(index, "school-b"))) == 1  # the story is listed once


def test_a_shared_figure_or_name_alone_is_no_relation():
    iss = doc(
        "iss",
        0,
        "Экипаж 35-й экспедиции МКС вернулся на Землю",
        "Спускаемый аппарат приземлился в степи под Жезказганом.",
    )
    leaders = doc(
        "leaders",
        3,
        "На саммит в Астане приедут 35 мировых лидеров",
        "Форум пройдет во Дворце Независимости, сообщили организаторы.",
    )
    index = RelatedIndex.build([*corpus(), iss, leaders], SETTINGS)
    assert "leaders" not in keys(index, "iss")


def test_an_abbreviation_and_its_words_are_one_concept():
    wb = doc(
        "wb-a",
        0,
        "ВБ улучшил прогноз роста экономики Казахстана",
        "Эксперты банка ждут роста на 4,5% в 2026 году.",
    )
    words = doc(
        "wb-b",
        4,
        "Всемирный банк повысил прогноз для экономики Казахстана",
        "Рост составит 4,5 процента, считают аналитики.",
    )
    other = doc(
        "imf",
        3,
        "МВФ сохранил прогноз инфляции в Казахстане",
        "Фонд ожидает замедления роста цен во втором полугодии.",
    )
    index = RelatedIndex.build([*corpus(), wb, words, other], SETTINGS)
    assert keys(index, "wb-a")[:1] == ["wb-b"]


# --- analysis: a batch at once, as each text alone -------------------------------------


def test_a_batch_of_texts_is_analyzed_as_each_text_alone():
    """The rebuild analyzes texts a batch at a time (numpy over the batch); an added
    entry is analyzed alone: both must give the same terms, counts, names and reprint
    signature, or a rebuilt list would differ from an incrementally kept one."""
    import numpy as np

    from aggregator.related._hashing import counted
    from aggregator.related.analyze import analyze_with_signature, parse_batch

    odd = [
        doc("empty", 1, "", ""),
        doc("stops", 2, "И в на", "и в на по"),
        doc(
            "mixed",
            3,
            "Lexus и Arctic Sunrise: МВФ дал 1,5 млн",
            "ҚР ІІМ и вузы: двадцать пять тысяч человек, 35 тыс. тенге. " * 30,
        ),
        replace(
            doc("english", 4, "World Bank Cuts Forecast", "The IMF and Tengiz."), language="en"
        ),
        # Letters beyond the BMP (4 bytes in UTF-8), ligatures, titlecase digraphs.
        doc("astral", 5, "𝔸𝕝𝕞𝕒𝕥𝕪 и ǅилас", "Слово 𐐷𐐸 и ﬁnal Ǆemal: 𝔸𝕝𝕞𝕒𝕥𝕪 снова. " * 5),
    ]
    docs = [*corpus(), DEATH_A, DEATH_B, *odd]
    batch = parse_batch(docs)
    assert sorted(d.key for d in batch.docs) == sorted(d.key for d in docs)
    by_key = {d.key: d for d in docs}
    ends = [np.cumsum(column[2]) for column in (batch.title, batch.body, batch.names)]
    for i, parsed in enumerate(batch.docs):
        title, body, names, text_hash, sketch = analyze_with_signature(by_key[parsed.key])
        got = [
            (
                batch.hashes(column)[end[i] - column[2][i] : end[i]],
                column[1][end[i] - column[2][i] : end[i]],
            )
            for column, end in zip((batch.title, batch.body), ends, strict=False)
        ]
        for (hashes, counts), terms in zip(got, (title, body), strict=True):
            want_hashes, want_counts = counted(terms)
            assert hashes.tolist() == want_hashes.tolist(), parsed.key
            assert counts.tolist() == want_counts.tolist(), parsed.key
        name_hashes = batch.hashes(batch.names)[ends[2][i] - batch.names[2][i] : ends[2][i]]
        assert name_hashes.tolist() == counted(names)[0].tolist(), parsed.key
        assert (parsed.text_hash, parsed.sketch) == (text_hash, sketch), parsed.key
    assert any(len(p.sketch) for p in batch.docs) and len(batch.names[0])


def test_word_forms_another_worker_worked_out_give_the_same_batch(tmp_path, monkeypatch):
    """A rebuild's workers share the word forms each works out (stems, hashes): a
    worker taking the forms of another's texts analyzes its own as it would alone,
    working out only the forms the other had not met; so too when they work out a
    batch's new forms a few at a time (up in one worker, down in the other)."""
    from aggregator.related import _words

    def batch_arrays(batch):
        columns = (batch.title, batch.body, batch.names)
        return [batch.terms.tolist(), *[a.tolist() for c in columns for a in c], batch.docs]

    added: list[str] = []
    add = _words.Words._add

    def counted_add(self, words, *args):
        added.extend(words)
        add(self, words, *args)

    monkeypatch.setattr(_words.Words, "_add", counted_add)
    docs = [*corpus(), DEATH_A, DEATH_B]
    first, second = docs[: len(docs) // 2], docs[len(docs) // 2 :]
    monkeypatch.setattr(_words.Words, "_tables", {})
    alone = batch_arrays(parse_batch(second))
    worked_out_alone = len(added)

    for forms_slice in (_words._FORMS_SLICE, 2):
        monkeypatch.setattr(_words, "_FORMS_SLICE", forms_slice)
        directory = tmp_path / str(forms_slice)
        directory.mkdir()
        for worker, part in ((0, first), (1, second)):
            monkeypatch.setattr(_words.Words, "_tables", {})
            monkeypatch.setattr(
                _words.Words, "shared", _words.SharedForms(str(directory), worker, 2)
            )
            added.clear()
            batch = parse_batch(part)
            _words.Words.shared.close()
        assert batch_arrays(batch) == alone
        assert 0 < len(added) < worked_out_alone  # those the first met were not worked out


def test_a_batchs_digits_and_name_starts_are_where_the_patterns_find_them():
    """The rebuild finds where a batch's digits and capitalized words are by numpy,
    through a table of every code point's kind; the table says what the patterns
    say, and names found from those places are the names a scan finds."""
    import random
    import re

    from aggregator.related import _proper_names

    kinds = _proper_names._code_kinds()
    pattern = _proper_names._CAPITALIZED.pattern
    first = re.compile(pattern[: pattern.index("]") + 1])
    for bit, check in (
        (_proper_names._DIGIT, re.compile(r"\d")),
        (_proper_names._WORD, re.compile(r"\w")),
        (_proper_names._CAPITALIZED_FIRST, first),
    ):
        have = np.flatnonzero(kinds & bit).tolist()
        assert have == [c for c in range(0x110000) if check.fullmatch(chr(c))], check.pattern
    # Digits past ASCII are looked up only from the first of them.
    assert not [c for c in range(0x3A, _proper_names._FIRST_OTHER_DIGIT) if chr(c).isdecimal()]
    rng = random.Random(3)
    pieces = [
        "Токаев", "токаев", "Астана", "МВД", "Lexus", "lexus", "Arctic Sunrise", "Әлем",
        "Іле", "_Ирина", "a_Б", "ёлка", "Ёлка", "x2", "2Б", "n1500", "Ǆemal", "𝔸lmaty",
        "«", "»", "\"", " ", "  ", ". ", "! ", "? ", "… ", "\n", ", ", "-", "(", ")",
    ]  # fmt: skip
    texts = ["".join(rng.choices(pieces, k=rng.randint(0, 30))) for _ in range(800)]
    for text, starts in zip(texts, _proper_names.name_starts(texts), strict=True):
        for language in ("ru", "en"):
            assert _proper_names.capitalized(text, language, starts) == _proper_names.capitalized(
                text, language
            ), text


def test_the_text_hash_is_equal_for_the_same_text_only():
    """A text's hash (what tells a reprint of a short text) is the same for the same
    title and text, and differs when a word moves between them, when two words swap,
    when a word is added or dropped, or when the text is repeated."""
    from aggregator.related.analyze import parse_batch, reprint_signature

    title, text = "Курс тенге вырос", "Нацбанк сообщил о росте курса тенге к доллару"
    variants = {
        "same": (title, text),
        "moved": ("Курс тенге", "вырос " + text),
        "swapped": ("Тенге курс вырос", text),
        "added": (title, text + " США"),
        "dropped": (title, text.rsplit(" ", 1)[0]),
        "twice": (title, f"{text} {text}"),
        "no title": ("", f"{title} {text}"),
    }
    docs = [doc(name, i, t, b) for i, (name, (t, b)) in enumerate(variants.items())]
    docs.append(doc("again", 9, title, text))
    hashes = {d.key: reprint_signature(d)[0] for d in docs}
    assert hashes["same"] == hashes["again"]
    assert len({h for k, h in hashes.items() if k != "again"}) == len(variants)
    # The batch gives each the hash it has alone.
    assert {d.key: d.text_hash for d in parse_batch(docs).docs} == {
        d.key: parse_batch([d]).docs[0].text_hash for d in docs
    }


def test_an_entrys_version_changes_with_anything_its_document_reads():
    """The fingerprint tells an edited entry: each field the analysis reads changes
    it (an absent summary is not an empty one), and an equal entry keeps it."""
    from aggregator.models import Item, StoredItem
    from aggregator.related.changes import version_of

    item = Item(
        id="a",
        title="Заголовок",
        link="https://tengri.example.kz/news/a",
        summary="<p>Кратко</p>",
        content=None,
        categories=("Общество", "Экономика"),
        language="ru",
    )
    base = StoredItem(
        key="k", item=item, source_ids=("tengri",), first_seen=T0, published=T0, updated=T0
    )
    edits = [
        replace(base, item=replace(item, title="Заголовок!")),
        replace(base, item=replace(item, summary="")),
        replace(base, item=replace(item, summary=None)),
        replace(base, item=replace(item, content="")),
        replace(base, item=replace(item, categories=("Общество",))),
        replace(base, item=replace(item, categories=("ОбществоЭкономика",))),
        replace(base, item=replace(item, language=None)),
        replace(base, item=replace(item, link="https://tengri.example.kz/news/b")),
        replace(base, published=T0 + timedelta(seconds=1)),
        replace(base, source_ids=("tengri", "vlast")),
        # The same letters, moved from one field to the next.
        replace(base, item=replace(item, title="Заголовок<p>", summary="Кратко</p>")),
    ]
    versions = [version_of(s) for s in [base, *edits]]
    assert len(set(versions)) == len(versions)
    assert version_of(replace(base, item=replace(item))) == versions[0]
    assert all(len(v) == 16 and int(v, 16) >= 0 for v in versions)
