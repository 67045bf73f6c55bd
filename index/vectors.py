"""The index's vectors: a FAISS index, memory-mapped from a snapshot, with an overlay of changes.

A FAISS index read with IO_FLAG_MMAP_IFC is a view of the file's pages in the page cache, which
every process that loads the same snapshot shares. FAISS cannot change such an index (adding to
or removing from a view stops the process), so while the base is mapped, added vectors go to a
small index of the same kind beside it (for an inverted file: the same cells, so a search visits
the same ones) and removed ones are skipped by an ID selector; a search asks both and merges
them by score. Past a share of the base (index/lexical.py's COMPACT_SHARE) the changes are folded
into a copy of the base that the process owns and changes in place from then on, as an index
built in memory always does.
"""
import faiss
import numpy as np

from .lexical import COMPACT_MIN, COMPACT_SHARE


def flat_index(dim: int) -> faiss.Index:
    """Give an empty flat inner-product index with ids."""
    return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))


class VectorStore:
    """Vectors by id: a base FAISS index (owned, or a read-only mapped view) and its overlay."""

    def __init__(self, dim: int, base: faiss.Index | None = None, mapped: bool = False):
        self.dim = dim
        self._set_base(flat_index(dim) if base is None else base, mapped)

    def _set_base(self, base: faiss.Index, mapped: bool) -> None:
        """Make an index the base and empty the overlay."""
        self._base, self.mapped = base, mapped
        self._removed: set[int] = set()  # base vector ids removed since it was mapped
        self._selector = None  # skips the removed ids; made on demand
        self._overlay_ids: set[int] = set()
        self._overlay = None
        if mapped:
            self._overlay = self._empty_like(base)

    def _empty_like(self, base: faiss.Index) -> faiss.Index:
        """Give an empty index of the base's kind; an inverted file shares its cells."""
        if not isinstance(base, faiss.IndexIVF):
            return flat_index(self.dim)
        ivf = faiss.IndexIVFFlat(base.quantizer, self.dim, base.nlist, faiss.METRIC_INNER_PRODUCT)
        ivf.set_direct_map_type(faiss.DirectMap.Hashtable)
        ivf.nprobe = base.nprobe
        return ivf

    @property
    def index(self) -> faiss.Index:
        """Give the base FAISS index."""
        return self._base

    @property
    def partitioned(self) -> bool:
        """Say whether the vectors sit in an inverted file (IVF)."""
        return isinstance(self._base, faiss.IndexIVF)

    @property
    def nprobe(self) -> int:
        """Give the cells an inverted file's search visits."""
        return self._base.nprobe

    @nprobe.setter
    def nprobe(self, value: int) -> None:
        for index in (self._base, self._overlay):
            if isinstance(index, faiss.IndexIVF):
                index.nprobe = value

    @property
    def ntotal(self) -> int:
        """Give how many vectors there are."""
        extra = self._overlay.ntotal if self._overlay is not None else 0
        return self._base.ntotal - len(self._removed) + extra

    def add(self, vectors: np.ndarray, ids: np.ndarray) -> None:
        """Add vectors under ids (not held already)."""
        if not self.mapped:
            self._base.add_with_ids(vectors, ids)
            return
        self._overlay.add_with_ids(vectors, ids)
        self._overlay_ids.update(ids.tolist())
        self._fold_if_big()

    def remove(self, ids: np.ndarray) -> None:
        """Remove the vectors with these ids (each held: the owner knows which it added)."""
        if not self.mapped:
            self._base.remove_ids(ids)
            return
        ids = ids.tolist()
        mine = [i for i in ids if i in self._overlay_ids]
        if mine:
            self._overlay.remove_ids(np.asarray(mine, np.int64))
            self._overlay_ids.difference_update(mine)
        based = [i for i in ids if i not in mine and i not in self._removed]
        if based:
            self._removed.update(based)
            self._selector = None
            self._fold_if_big()

    def reconstruct_batch(self, ids: np.ndarray) -> np.ndarray:
        """Give the vectors with these ids, in order."""
        if not self._overlay_ids:
            return self._base.reconstruct_batch(ids)
        out = np.empty((len(ids), self.dim), np.float32)
        theirs = np.fromiter((i in self._overlay_ids for i in ids.tolist()), bool, len(ids))
        if theirs.any():
            out[theirs] = self._overlay.reconstruct_batch(ids[theirs])
        if not theirs.all():
            out[~theirs] = self._base.reconstruct_batch(ids[~theirs])
        return out

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Give the k best (scores, ids) for one query, as FAISS does, (1, k) each."""
        if not self.mapped or (not self._removed and not self._overlay_ids):
            return self._base.search(query, k)
        scores, ids = self._base.search(query, k, params=self._params()) if self._removed \
            else self._base.search(query, k)
        if self._overlay_ids:
            more_scores, more_ids = self._overlay.search(query, k)
            scores, ids = np.concatenate([scores, more_scores], 1), np.concatenate([ids, more_ids], 1)
            found = ids[0] >= 0
            order = np.argsort(-scores[0][found], kind="stable")[:k]  # the base's first among equals
            top_scores = np.full((1, k), -np.inf, np.float32)
            top_ids = np.full((1, k), -1, np.int64)
            top_scores[0, :len(order)] = scores[0][found][order]
            top_ids[0, :len(order)] = ids[0][found][order]
            scores, ids = top_scores, top_ids
        return scores, ids

    def _params(self):
        """Give search parameters that skip the removed base vectors."""
        if self._selector is None:
            removed = np.fromiter(self._removed, np.int64, len(self._removed))
            batch = faiss.IDSelectorBatch(removed)
            skip = faiss.IDSelectorNot(batch)
            if isinstance(self._base, faiss.IndexIVF):
                params = faiss.SearchParametersIVF(sel=skip, nprobe=self._base.nprobe)
            else:
                params = faiss.SearchParameters(sel=skip)
            self._selector = (params, skip, batch)  # FAISS keeps pointers: keep the objects alive
        return self._selector[0]

    def everything(self) -> tuple[np.ndarray, np.ndarray]:
        """Give (ids, vectors) of every vector, in the order an index changed in place holds them."""
        if isinstance(self._base, faiss.IndexIVF):
            ids = _ivf_ids(self._base)
        else:
            ids = faiss.vector_to_array(self._base.id_map).astype(np.int64)
        if self._removed:
            ids = ids[~np.isin(ids, np.fromiter(self._removed, np.int64, len(self._removed)))]
        vectors = self._base.reconstruct_batch(ids) if len(ids) else np.zeros((0, self.dim), np.float32)
        if self._overlay_ids:
            more = faiss.vector_to_array(self._overlay.id_map).astype(np.int64) \
                if not isinstance(self._overlay, faiss.IndexIVF) else _ivf_ids(self._overlay)
            ids = np.concatenate([ids, more])
            vectors = np.concatenate([vectors, self._overlay.reconstruct_batch(more)])
        return ids, vectors

    @property
    def changed(self) -> bool:
        """Say whether a mapped base has changes beside it."""
        return bool(self._removed or self._overlay_ids)

    def own(self) -> None:
        """Fold the changes into a copy of the base this process owns (no longer mapped)."""
        if not self.mapped:
            return
        base = faiss.deserialize_index(faiss.serialize_index(self._base))
        if isinstance(base, faiss.IndexIVF):
            base.nprobe = self._base.nprobe
        if self._removed:
            base.remove_ids(np.fromiter(self._removed, np.int64, len(self._removed)))
        if self._overlay_ids:
            ids = faiss.vector_to_array(self._overlay.id_map).astype(np.int64) \
                if not isinstance(self._overlay, faiss.IndexIVF) else _ivf_ids(self._overlay)
            base.add_with_ids(self._overlay.reconstruct_batch(ids), ids)
        self._set_base(base, mapped=False)

    def _fold_if_big(self) -> None:
        """Own the base once the changes pass a share of it (a merged search costs more)."""
        if len(self._overlay_ids) + len(self._removed) > max(COMPACT_MIN, COMPACT_SHARE * self._base.ntotal):
            self.own()


def _ivf_ids(ivf: faiss.IndexIVF) -> np.ndarray:
    """Give an inverted file's ids, cell by cell."""
    lists = ivf.invlists
    parts = [faiss.rev_swig_ptr(lists.get_ids(i), lists.list_size(i)).copy()
             for i in range(ivf.nlist) if lists.list_size(i)]
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)
