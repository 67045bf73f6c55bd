"""Index snapshots on disk, swapped in atomically.

Layout: `<root>/snapshots/<name>/{meta.json,index.pkl,arrays/*.npy,arrays/vectors.faiss}` and
`<root>/CURRENT` naming the live snapshot. The index's NumPy arrays (documents' ids and keys, BM25
postings, the re-ranker's title terms) are .npy files beside the pickle, and its FAISS index a
file of FAISS's own, all loaded memory-mapped: every process that loads the same snapshot reads
the same pages of the page cache instead of a copy of its own.

A new snapshot is written in full under a temporary name, renamed into place, and only then does
CURRENT change (os.replace is atomic): a reader sees the old index or the new one,
never half of one, and a build killed half way leaves the old one live.
"""
import fcntl
import json
import os
import pickle
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from .encoders import load_encoder
from .hybrid import HybridIndex

# 3: every snapshot keeps the re-ranker's title+claim terms (2 could lack them).
# 4: the index's arrays are .npy files in arrays/ (3 pickled dicts; still read).
# 5: the documents' ids, keys and digests are arrays too, and the vectors a FAISS file, mapped
#    (4 pickled those dicts and kept the vectors serialized in an array; still read).
FORMAT = 5
READABLE = (3, 4, 5)


ARRAYS = "arrays"


@dataclass(frozen=True)
class ArrayFile:
    """Where a state's array went: <snapshot>/arrays/<name>.npy."""

    name: str


@dataclass(frozen=True)
class IndexFile:
    """Where a state's FAISS index went: <snapshot>/arrays/<name>.faiss."""

    name: str


def _save_arrays(state: dict, folder: Path) -> dict:
    """Give state with its NumPy arrays, at its top or one level down (the lexical index's), each
    written to its own .npy file (synced) and named instead; a FAISS index alike, in its own format."""
    folder.mkdir()

    def save(name: str, value):
        if isinstance(value, faiss.Index):
            faiss.write_index(value, str(folder / f"{name}.faiss"))
            with open(folder / f"{name}.faiss", "rb+") as fh:
                os.fsync(fh.fileno())
            return IndexFile(name)
        if not isinstance(value, np.ndarray):
            return value
        with open(folder / f"{name}.npy", "wb") as fh:
            np.save(fh, value, allow_pickle=False)
            fh.flush()
            os.fsync(fh.fileno())
        return ArrayFile(name)

    return {key: ({k: save(f"{key}.{k}", v) for k, v in value.items()}
                  if isinstance(value, dict) and any(isinstance(v, np.ndarray) for v in value.values())
                  else save(key, value))
            for key, value in state.items()}


def _load_arrays(state: dict, folder: Path) -> dict:
    """Give state with its named arrays and FAISS index (_save_arrays) opened read-only and
    memory-mapped."""
    def load(value):
        if isinstance(value, IndexFile):
            # A view of the file's pages, which FAISS never changes (index/vectors.py).
            return faiss.read_index(str(folder / f"{value.name}.faiss"), faiss.IO_FLAG_MMAP_IFC)
        if not isinstance(value, ArrayFile):
            return value
        # A plain array over the mapping: np.memmap's own indexing costs microseconds a call.
        return np.asarray(np.load(folder / f"{value.name}.npy", mmap_mode="r", allow_pickle=False))

    return {key: ({k: load(v) for k, v in value.items()}
                  if isinstance(value, dict) and any(isinstance(v, ArrayFile) for v in value.values())
                  else load(value))
            for key, value in state.items()}


class SnapshotMissing(LookupError):
    """There is no index on disk yet."""


class SnapshotUnusable(ValueError):
    """A snapshot cannot be loaded by this version or with its encoder: rebuild it."""


class IndexStore:
    """The folder of index snapshots."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.snapshots = self.root / "snapshots"

    def current_name(self) -> str | None:
        """Give the name of the live snapshot, or None."""
        try:
            name = (self.root / "CURRENT").read_text().strip()
        except FileNotFoundError:
            return None
        return name if (self.snapshots / name / "meta.json").exists() else None

    def meta(self, name: str | None = None) -> dict:
        """Give a snapshot's metadata (the live one by default)."""
        name = name or self.current_name()
        if not name:
            raise SnapshotMissing(f"No index in {self.root}: run `flask index rebuild`.")
        return json.loads((self.snapshots / name / "meta.json").read_text())

    def load(self, name: str | None = None, **index_options) -> tuple[str, HybridIndex]:
        """Load a snapshot (the live one by default) with the encoder it was built with."""
        name = name or self.current_name()
        meta = self.meta(name)
        if meta.get("format") not in READABLE:
            raise SnapshotUnusable(f"Snapshot {name} has format {meta.get('format')}, this version reads "
                                   f"{', '.join(map(str, READABLE))}: run `flask index rebuild`.")
        encoder = load_encoder(meta["encoder_spec"])
        if encoder.id != meta["encoder_id"] or encoder.dim != meta["dim"]:
            raise SnapshotUnusable(
                f"Snapshot {name} was built with {meta['encoder_id']} ({meta['dim']} dims) but "
                f"{meta['encoder_spec']!r} now loads {encoder.id} ({encoder.dim} dims): "
                "run `flask index rebuild`."
            )
        index = HybridIndex(encoder, **index_options)
        folder = self.snapshots / name
        with open(folder / "index.pkl", "rb") as fh:
            state = pickle.load(fh)
        index.restore(_load_arrays(state, folder / ARRAYS) if meta["format"] >= 4 else state)
        return name, index

    def save(self, index: HybridIndex, build: str | None = None) -> str:
        """Write an index as a new snapshot and make it the live one.

        build: the rebuild it belongs to (Searcher's Build.id); None keeps the live snapshot's.
        """
        if build is None:
            build = self.current_build()
        self.snapshots.mkdir(parents=True, exist_ok=True)
        name = time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
        tmp = self.snapshots / f".tmp-{name}"
        tmp.mkdir()
        state = _save_arrays(index.state(), tmp / ARRAYS)
        with open(tmp / "index.pkl", "wb") as fh:
            pickle.dump(state, fh, protocol=pickle.HIGHEST_PROTOCOL)
            fh.flush()
            os.fsync(fh.fileno())
        meta = {
            "format": FORMAT, "encoder_spec": index.encoder.spec, "encoder_id": index.encoder.id,
            "dim": index.encoder.dim, "revision": index.revision, "documents": len(index),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "partitioned": index.partitioned, "build": build,
        }
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
        os.replace(tmp, self.snapshots / name)
        pointer = self.root / f".CURRENT-{uuid.uuid4().hex[:6]}"
        pointer.write_text(name)
        os.replace(pointer, self.root / "CURRENT")
        return name

    def current_build(self) -> str | None:
        """Give the rebuild the live snapshot belongs to, or None."""
        try:
            return self.meta().get("build")
        except SnapshotMissing:
            return None

    @contextmanager
    def rebuild_lock(self, wait: bool = True) -> Iterator[bool]:
        """Hold this folder's rebuild lock, so that one process of a node rebuilds at a time.

        Gives True once held; with wait=False, False at once when another process holds it.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / "rebuild.lock", "a") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def prune(self, keep: int = 2) -> list[str]:
        """Delete old snapshots and leftovers of interrupted builds, keeping the newest few."""
        if not self.snapshots.exists():
            return []
        live = self.current_name()
        names = sorted(p.name for p in self.snapshots.iterdir() if not p.name.startswith("."))
        doomed = [n for n in names[:-keep] if n != live]
        stale = [p.name for p in self.snapshots.iterdir()
                 if p.name.startswith(".tmp-") and time.time() - p.stat().st_mtime > 3600]
        for name in doomed + stale:
            shutil.rmtree(self.snapshots / name, ignore_errors=True)
        return doomed + stale
