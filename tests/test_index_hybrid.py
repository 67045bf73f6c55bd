"""The hybrid index with the fast fake encoder: ranking, updates, decisions, persistence."""
import numpy as np
import pytest

from index import Document, EncoderMismatch, FakeEncoder, HybridIndex, Ranking
from index.service import Changes, SearchService, rebuild
from index.store import FORMAT, READABLE, IndexStore, SnapshotMissing

DOCS = [
    Document("chip", "Vaksin COVID-19 mengandung microchip pelacak", "vaksin ada chip buat melacak warga",
             "Vaksin tidak berisi microchip; ukuran jarum terlalu kecil.", "id"),
    Document("bansos", "Tautan pendaftaran bansos palsu", "daftar bansos lewat link ini dapat 2 juta",
             "Pendaftaran bansos tidak lewat tautan berantai.", "id"),
    Document("5g", "5G towers spread the coronavirus", "5g towers cause covid",
             "Radio waves cannot carry a virus.", "en"),
    Document("gempa", "Prediksi gempa besar malam ini", "akan ada gempa besar jam 10 malam",
             "Gempa tidak bisa diprediksi waktunya.", "id"),
]


@pytest.fixture
def index():
    index = HybridIndex(FakeEncoder())
    index.add(DOCS)
    return index


@pytest.mark.parametrize("query, expected", [
    ("vaksin chip", "chip"),
    ("daftar bansos", "bansos"),
    ("is it true 5g towers cause covid?", "5g"),
    ("katanya ada gempa besar malam ini", "gempa"),
])
def test_search_ranks_the_right_document_first(index, query, expected):
    result = index.search(query, k=3)
    assert result.matches[0].id == expected
    assert [m.score for m in result.matches] == sorted((m.score for m in result.matches), reverse=True)


def test_matches_hold_the_top_k_whatever_the_decision(index):
    result = index.search("resep nasi goreng enak", k=4)
    assert len(result.matches) == 4 and result.decision in ("no_match", "choices", "match")


@pytest.mark.parametrize("query", ["", "   ", "😀😀", "yang dan di"])
def test_queries_without_words_match_nothing(index, query):
    assert index.search(query).decision == "no_match"


def test_a_clear_keyword_hit_is_a_match(index):
    assert index.search("vaksin microchip pelacak").decision == "match"


def test_remove_and_update(index):
    index.remove(["chip"])
    assert "chip" not in index and all(m.id != "chip" for m in index.search("vaksin chip").matches)
    index.add([Document("bansos", "Undian umroh gratis", "menang umroh gratis")])
    assert len(index) == 3
    assert index.search("umroh gratis").matches[0].id == "bansos"
    assert all(m.id != "bansos" for m in index.search("daftar bansos", k=3).matches[:1])


def test_empty_index_answers_no_match():
    assert HybridIndex(FakeEncoder()).search("vaksin").decision == "no_match"


def test_vectors_from_another_encoder_are_refused(index):
    other = FakeEncoder(id="another-model")
    with pytest.raises(EncoderMismatch, match="rebuild"):
        index.add(DOCS[:1], [other.encode_documents(["x"])], encoder_id=other.id)


def test_state_round_trip_keeps_results(index):
    copy = HybridIndex(FakeEncoder())
    copy.restore(index.state())
    assert [m.id for m in copy.search("vaksin chip").matches] == [m.id for m in index.search("vaksin chip").matches]
    assert np.allclose(copy.vectors_of("chip"), index.vectors_of("chip"))


def test_store_saves_and_swaps_snapshots(tmp_path, index):
    store = IndexStore(tmp_path)
    with pytest.raises(SnapshotMissing):
        store.meta()
    index.revision = 7
    first = store.save(index)
    assert store.current_name() == first and store.meta()["revision"] == 7
    assert store.meta()["encoder_id"] == "fake-trigram-v1" and store.meta()["documents"] == 4
    name, loaded = store.load()
    assert name == first and loaded.search("vaksin chip").matches[0].id == "chip"


QUERIES = ["vaksin chip", "daftar bansos", "5g towers cause covid", "gempa besar malam ini", "resep rendang"]


def _ranked(index):
    return [[(m.id, m.score, m.lexical) for m in index.search(q, k=4).matches] for q in QUERIES]


def test_snapshot_arrays_are_files_opened_memory_mapped_and_read_only(tmp_path, index):
    store = IndexStore(tmp_path)
    name = store.save(index)
    arrays = {p.name for p in (store.snapshots / name / "arrays").iterdir()}
    assert {"lexical.keys.npy", "lexical.tfs.npy", "heads.term_ids.npy", "documents.ids_blob.npy",
            "documents.keys.npy", "documents.digests.npy", "vectors.faiss"} <= arrays
    _, loaded = store.load()
    state = loaded.state()
    assert not state["lexical"]["keys"].flags.writeable and not state["heads"]["counts"].flags.writeable
    assert not state["documents"]["keys"].flags.writeable and not state["documents"]["digests"].flags.writeable
    assert loaded._vectors.mapped
    assert _ranked(loaded) == _ranked(index)
    # Changes after loading go to the overlay, never into the mapped files.
    for copy in (loaded, index):
        copy.remove(["chip"])
        copy.add([Document("bansos", "Undian umroh gratis", "menang umroh gratis")])
    assert _ranked(loaded) == _ranked(index)
    assert store.load(name)[1].search("vaksin chip").matches[0].id == "chip"


def test_snapshots_of_the_previous_format_load(tmp_path, index):
    """A snapshot written before the arrays (format 3: one pickle, dicts) still loads and ranks
    as it did; the lexical postings, lengths and head terms are rebuilt from plain dicts."""
    import pickle

    from index.text import tokenize
    state = _plain_state(index)
    postings, lengths, heads = {}, {}, {}
    for doc in DOCS:
        key = state["keys"][doc.id]
        tokens = tokenize(doc.lexical_text(), doc.lang)
        lengths[key] = len(tokens)
        for term in tokens:
            postings.setdefault(term, {})[key] = tokens.count(term)
        heads[key] = {}
        for term in tokenize(f"{doc.title} {doc.claim}", doc.lang):
            heads[key][term] = heads[key].get(term, 0) + 1
    state["lexical"] = {"k1": 1.2, "b": 0.75, "postings": postings, "lengths": lengths}
    state["heads"] = heads
    folder = _old_snapshot(tmp_path, index, 3)
    (folder / "index.pkl").write_bytes(pickle.dumps(state))
    _, loaded = IndexStore(tmp_path).load()
    assert _ranked(loaded) == _ranked(index)


def test_snapshots_of_format_4_load(tmp_path, index):
    """A format 4 snapshot (arrays for the postings and head terms; the documents' dicts pickled,
    the vectors serialized in an array) still loads, ranks as it did and takes changes."""
    import pickle

    from index.store import ARRAYS, _save_arrays
    state = _plain_state(index)
    state["lexical"], state["heads"] = index._lexical.state(), index._heads.state()
    folder = _old_snapshot(tmp_path, index, 4)
    (folder / "index.pkl").write_bytes(pickle.dumps(_save_arrays(state, folder / ARRAYS)))
    assert (folder / ARRAYS / "vectors.npy").exists()
    _, loaded = IndexStore(tmp_path).load()
    assert _ranked(loaded) == _ranked(index)
    assert [loaded.digest(d.id) for d in DOCS] == [d.digest() for d in DOCS] and loaded.ids == index.ids
    for copy in (loaded, index):
        copy.remove(["chip"])
        copy.add([Document("bansos", "Undian umroh gratis", "menang umroh gratis")])
    assert _ranked(loaded) == _ranked(index)


def _old_snapshot(root, index, version):
    """Make the live snapshot's folder, with the metadata of a format version; give the folder."""
    import json

    folder = root / "snapshots" / f"20250101T000000-v{version}"
    folder.mkdir(parents=True)
    meta = {"format": version, "encoder_spec": "fake", "encoder_id": index.encoder.id, "dim": index.encoder.dim,
            "revision": 0, "documents": len(index), "partitioned": False, "build": None}
    (folder / "meta.json").write_text(json.dumps(meta))
    (root / "CURRENT").write_text(folder.name)
    return folder


def _plain_state(index):
    """Give an index's state as formats 3 and 4 kept the documents: dicts, and the vectors
    serialized."""
    import faiss

    return {"keys": {doc_id: index.key_of(doc_id) for doc_id in index.ids},
            "digests": {doc_id: index.digest(doc_id) for doc_id in index.ids},
            "nvec": {index.key_of(doc_id): len(index.vectors_of(doc_id)) for doc_id in index.ids},
            "next_key": index._next_key, "revision": index.revision,
            "vectors": faiss.serialize_index(index._vectors.index)}


def test_interrupted_build_leaves_the_live_snapshot(tmp_path, index):
    store = IndexStore(tmp_path)
    live = store.save(index)
    (store.snapshots / ".tmp-20990101T000000-dead").mkdir()  # a build killed half way
    (store.snapshots / ".tmp-20990101T000000-dead" / "index.pkl").write_bytes(b"partial")
    assert store.current_name() == live
    assert store.load()[1].search("daftar bansos").matches[0].id == "bansos"


def test_rebuild_reuses_vectors_of_unchanged_documents(tmp_path):
    store = IndexStore(tmp_path)
    first = rebuild(store, 1, DOCS, "fake")
    assert (first.embedded, first.reused) == (4, 0)
    changed = DOCS[:3] + [Document("gempa", "Prediksi tsunami", "tsunami besok")]
    second = rebuild(store, 2, changed, "fake")
    assert (second.embedded, second.reused, second.documents) == (1, 3, 4)
    assert store.current_name() == second.snapshot and store.meta()["revision"] == 2
    full = rebuild(store, 2, changed, "fake", reuse=False)
    assert full.embedded == 4


def test_service_applies_changes_and_reloads_new_snapshots(tmp_path):
    store = IndexStore(tmp_path)
    service = SearchService(store, "fake")
    assert len(service.index) == 0 and service.revision == 0
    service.apply(Changes(3, DOCS, []))
    assert service.revision == 3 and service.index.search("vaksin chip").matches[0].id == "chip"
    assert service.apply(Changes(4, DOCS[:1], [])) == 0  # unchanged text is not embedded again
    service.apply(Changes(5, [], ["chip"]))
    assert "chip" not in service.index
    rebuild(store, 9, DOCS[1:], "fake")
    assert service.reload() is True and service.revision == 9 and len(service.index) == 3
    assert service.reload() is False


def test_service_keeps_answering_when_the_snapshot_is_unusable(tmp_path, index, caplog):
    store = IndexStore(tmp_path)
    name = store.save(index)
    meta = store.snapshots / name / "meta.json"
    meta.write_text(meta.read_text().replace(f'"format": {FORMAT}', f'"format": {min(READABLE) - 1}'))
    service = SearchService(store, "fake")
    assert service.reload() is False and len(service.index) == 0 and service.revision == 0
    assert "run `flask index rebuild`" in caplog.text
    service.apply(Changes(1, DOCS, []))
    assert service.index.search("vaksin chip").matches[0].id == "chip"
    assert service.reload() is False  # the refused snapshot is not tried again every second


def _many(n):
    """n documents with overlapping words, so rankings have ties and near-ties."""
    return [Document(f"d{i}", f"judul {i} vaksin {i % 97}", f"klaim nomor {i} soal {i % 13} hal",
                     f"ringkasan {i % 7}" if i % 2 else "", "id") for i in range(n)]


def test_a_partitioned_index_ranks_like_the_flat_one_when_every_cell_is_visited():
    flat = HybridIndex(FakeEncoder(dim=32))
    docs = _many(3000)
    flat.add(docs)
    ivf = HybridIndex(FakeEncoder(dim=32), nprobe=10_000)
    ivf.add(docs, [flat.vectors_of(d.id) for d in docs])
    assert not ivf.partitioned and ivf.partition(force=True) and ivf.partitioned
    for query in ("judul 42 vaksin 42", "klaim nomor 7 soal 7", "ringkasan 3 vaksin", "hal"):
        assert [m.id for m in ivf.search(query, k=5).matches] == [m.id for m in flat.search(query, k=5).matches]
    assert np.allclose(ivf.vectors_of("d5"), flat.vectors_of("d5"))


def test_a_partitioned_index_takes_removals_and_additions_and_survives_persistence(tmp_path):
    index = HybridIndex(FakeEncoder(dim=32, spec="fake:32", id="fake-trigram-v1:32"), ivf_from=1000)
    index.add(_many(2000))
    assert index.partition()  # 2,000 docs and 3,000 vectors: past ivf_from
    index.remove(["d42"])
    assert "d42" not in [m.id for m in index.search("judul 42 vaksin 42", k=5).matches]
    index.add([Document("new", "Zebra ungu menari di Monas", "zebra ungu", "", "id")])
    assert index.search("zebra ungu menari", k=1).matches[0].id == "new"
    store = IndexStore(tmp_path / "index")
    store.save(index)
    _, loaded = store.load(nprobe=7)
    assert loaded.partitioned and loaded._vectors.nprobe == 7 and len(loaded) == len(index)
    assert loaded.search("zebra ungu menari", k=1).matches[0].id == "new"


def test_small_indexes_stay_flat():
    index = HybridIndex(FakeEncoder(dim=32))
    index.add(_many(500))
    assert not index.partition() and not index.partitioned


def test_the_query_cache_embeds_a_repeated_query_once():
    from index.query_vectors import QueryCache

    encoder, cache = FakeEncoder(dim=16), QueryCache(size=2)
    first = cache.query_vector(encoder, "vaksin chip")
    again = cache.query_vector(encoder, "vaksin chip")
    assert encoder.calls == ["vaksin chip"] and np.array_equal(first, again)
    cache.query_vector(encoder, "bansos")
    cache.query_vector(encoder, "gempa")  # the oldest, "vaksin chip", makes room
    cache.query_vector(encoder, "vaksin chip")
    assert encoder.calls == ["vaksin chip", "bansos", "gempa", "vaksin chip"]
    assert (cache.hits, cache.misses) == (1, 4)
    other = FakeEncoder(dim=16, id="another")
    cache.query_vector(other, "gempa")  # the same text from another encoder is another vector
    assert other.calls == ["gempa"]


def test_workers_share_query_vectors_through_one_file_and_a_restart_starts_warm(tmp_path):
    """Two processes' caches over one SharedVectors file: one embeds, the other reads."""
    from index.query_vectors import QueryCache, SharedVectors

    path = tmp_path / "index" / "query-vectors.sqlite"
    encoder = FakeEncoder(dim=16)
    first, second = QueryCache(size=8, shared=SharedVectors(path)), QueryCache(size=8, shared=SharedVectors(path))
    vector = first.query_vector(encoder, "vaksin chip")
    again = second.query_vector(encoder, "vaksin chip")
    assert encoder.calls == ["vaksin chip"] and np.array_equal(vector, again)
    assert (second.shared_hits, second.misses) == (1, 0)
    assert b"vaksin" not in path.read_bytes()  # a digest names each vector, not the text
    assert len(SharedVectors.key(encoder.id, "\ud800 lone surrogate")) == 16  # any str has a key
    for text in ("bansos", "gempa"):
        first.query_vector(encoder, text)
    restarted = QueryCache(size=2, shared=SharedVectors(path))  # a new worker, after a restart
    assert restarted.warm(encoder) == 2
    restarted.query_vector(encoder, "gempa")
    assert restarted.hits == 1 and len(encoder.calls) == 3
    assert QueryCache(size=2).warm(encoder) == 0  # not shared: nothing to warm from


def test_shared_query_vectors_drop_the_oldest_and_survive_a_broken_file(tmp_path):
    from index.query_vectors import QueryCache, SharedVectors

    encoder = FakeEncoder(dim=16)
    shared = SharedVectors(tmp_path / "qv.sqlite", max_rows=3)
    cache = QueryCache(size=0, shared=shared)
    for i in range(5):
        cache.query_vector(encoder, f"pesan {i}")
    shared.prune()
    assert len(shared) == 3
    assert [SharedVectors.key(encoder.id, f"pesan {i}") for i in (2, 3, 4)] == \
        [key for key, _ in shared.recent(encoder.id, encoder.dim, 10)]
    other = FakeEncoder(dim=8, id="other")  # vectors of another encoder are not mixed in
    assert shared.recent(other.id, other.dim, 10) == []
    (tmp_path / "not-a-folder").write_text("a file where the index folder should be")
    local = SharedVectors(tmp_path / "not-a-folder" / "qv.sqlite")  # unusable path: this process only
    local.put(b"k" * 16, encoder.id, np.ones((1, 16), np.float32))
    assert local.get(b"k" * 16, 16) is not None and not (tmp_path / "not-a-folder").is_dir()
    broken = SharedVectors(tmp_path / "qv2.sqlite")
    broken._db.close()  # any sqlite error is a miss, not a failure
    cache.shared = broken
    assert cache.query_vector(encoder, "pesan baru").shape == (1, 16)
    assert encoder.calls[-1] == "pesan baru" and broken.recent(encoder.id, encoder.dim, 10) == []


def test_a_repeated_search_is_answered_from_the_results_kept_until_the_index_changes(index):
    first = index.search("vaksin chip", k=3)
    again = index.search("vaksin chip", k=3)
    assert again == first and again.matches is not first.matches  # callers get their own list
    index.remove(["chip"])
    after_removal = index.search("vaksin chip", k=3)
    assert "chip" not in [m.id for m in after_removal.matches]
    index.add([DOCS[0]])
    assert index.search("vaksin chip", k=3).matches[0].id == "chip"
    index.ranking = Ranking(lexical_weight_short=1.0)  # another ranking is another search
    lexical_only = index.search("vaksin chip", k=3)
    top = lexical_only.matches[0].lexical
    assert top > 0 and [m.score for m in lexical_only.matches] == pytest.approx(
        [m.lexical / top for m in lexical_only.matches])


def test_only_the_start_of_a_long_message_is_embedded_but_bm25_reads_it_all():
    encoder = FakeEncoder()
    index = HybridIndex(encoder, ranking=Ranking(query_embed_chars=40))
    index.add(DOCS)
    encoder.calls.clear()
    long_message = "tolong cek pesan ini " * 20 + "gempa besar malam ini"
    result = index.search(long_message, k=1)
    assert encoder.calls == ["tolong cek pesan ini tolong cek pesan"]  # cut at a space, <= 40
    assert result.matches[0].id == "gempa" and result.matches[0].lexical > 0  # from the words past the cut


def test_document_cosines_are_the_weighted_mean_of_their_vectors_cosines():
    index = HybridIndex(FakeEncoder(dim=32), ranking=Ranking(field_weights=(0.3, 0.7)))
    docs = _many(50)  # odd ids have a summary, so two vectors; even ids one
    index.add(docs)
    query = index.encoder.encode_queries(["judul vaksin ringkasan"])[0]
    keys = [index.key_of(d.id) for d in docs]
    ranked, cosines, fields = index._cosines(keys, query)
    assert np.array_equal(ranked, cosines)  # one encoder: the ranking reads the same cosines
    for doc, cosine, row in zip(docs, cosines, fields):
        per_vector = index.vectors_of(doc.id) @ query
        weights = np.array((0.3, 0.7)[:len(per_vector)])
        assert cosine == pytest.approx(float(per_vector @ weights / weights.sum()), abs=1e-6)
        assert row[:len(per_vector)] == pytest.approx(per_vector, abs=1e-6) and (row[len(per_vector):] == -1).all()


def test_the_quick_search_ranks_by_keywords_without_the_encoder_and_never_matches():
    encoder = FakeEncoder()
    index = HybridIndex(encoder)
    index.add(DOCS)
    encoder.calls.clear()  # a text no other test asks: the process-wide query cache has not seen it
    quick = index.search("pelacak microchip vaksin", k=3, embed=False)
    assert encoder.calls == [] and quick.quick
    assert quick.decision == "choices" and quick.matches[0].id == "chip"  # the full search matches it
    assert quick.matches[0].score == 1.0 and all(m.semantic == 0.0 for m in quick.matches)
    assert index.search("resep nasi goreng", k=3, embed=False).decision == "no_match"  # no word in common
    full = index.search("pelacak microchip vaksin", k=3)  # not served from the quick result
    assert encoder.calls == ["pelacak microchip vaksin"] and full.decision == "match" and not full.quick
    again = index.search("pelacak microchip vaksin", k=3, embed=False)  # the vector is at hand now
    assert not again.quick and again.decision == "match" and encoder.calls == ["pelacak microchip vaksin"]


@pytest.mark.parametrize("size", [300, 2000])  # flat, and past ivf_from: an inverted file
def test_a_loaded_snapshot_ranks_as_the_index_it_was_saved_from_through_changes(tmp_path, size):
    """The loaded index's documents and vectors are mapped from the snapshot and its changes
    sit beside them (index/documents.py, index/vectors.py): through removals, replacements and
    new documents it gives the same ids and scores, bit for bit, as the index changed in memory."""
    index = HybridIndex(FakeEncoder(), ivf_from=1000)
    index.add(_many(size))
    index.partition()
    store = IndexStore(tmp_path / "index")
    store.save(index)
    _, loaded = store.load(ivf_from=1000)
    assert loaded._vectors.mapped and loaded.partitioned == (size >= 1000)
    queries = ["judul 42 vaksin 42", "klaim nomor 7 soal", "ringkasan 3", "vaksin 5", "zebra ungu menari"]

    def ranked(idx):
        return [[(m.id, m.score, m.lexical, m.semantic) for m in idx.search(q, k=8).matches] for q in queries]

    assert ranked(loaded) == ranked(index)
    changes = [Document(f"d{i}", f"zebra {i} ungu", f"klaim baru {i}", "", "id") for i in range(0, 120, 3)]
    for step in range(4):
        for copy in (index, loaded):
            copy.remove([f"d{i}" for i in range(step, size, 37)])
            copy.add(changes[step::4] + [Document(f"new{step}", "Zebra ungu menari di Monas", "zebra ungu")])
        assert ranked(loaded) == ranked(index)
        assert loaded.ids == index.ids and len(loaded) == len(index)
    assert loaded._vectors.mapped and loaded._vectors.changed
    store.save(loaded)
    _, again = store.load(ivf_from=1000)
    assert ranked(again) == ranked(index)
