"""Search: find the closest documents for a text, and decide whether any answers it.

A library with no knowledge of Flask requests, SQL or the claims model: it takes documents
(id and text fields) and answers `search(text) -> SearchResult`.
"""
from .decision import Decider, Evidence
from .encoders import Encoder, FakeEncoder, UnknownEncoder, load_encoder
from .hybrid import Document, EncoderMismatch, HybridIndex, Match, Ranking, SearchResult
from .normalize import normalize_text

__all__ = [
    "Decider", "Document", "Encoder", "EncoderMismatch", "Evidence", "FakeEncoder", "HybridIndex",
    "Match", "Ranking", "SearchResult", "UnknownEncoder", "load_encoder", "normalize_text",
]
