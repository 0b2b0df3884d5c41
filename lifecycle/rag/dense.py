"""Dense embeddings: mean-pooled last hidden states of a local transformers encoder, L2-normalised,
searched by inner product with FAISS (so scores are cosine similarities)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from lifecycle.errors import ModelLoadError


def model_fingerprint(ref: str) -> str:
    """Changes when the encoder's files change (config + weight file sizes), so vectors are redone."""
    p = Path(ref)
    if not p.is_dir():
        return f"id:{ref}"
    h = hashlib.sha256()
    for f in sorted(p.iterdir()):
        if f.is_file() and (f.suffix in {".json", ".safetensors", ".bin", ".model"}):
            h.update(f.name.encode())
            h.update(str(f.stat().st_size).encode())
            if f.name == "config.json":
                h.update(f.read_bytes())
    return h.hexdigest()[:16]


class Encoder:
    def __init__(self, ref: str, *, max_length: int = 256, batch_size: int = 32) -> None:
        import os

        import torch
        from transformers import AutoModel, AutoTokenizer

        offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes", "on"}
        if not Path(ref).is_dir() and offline:
            raise ModelLoadError(f"embedding model '{ref}' is not a local folder and the hub is offline "
                                 "(HF_HUB_OFFLINE=1)",
                                 hint="set `embedding.model` in configs/rag.yaml to a model folder, or remove it "
                                 "to use BM25 only")
        from transformers.utils import logging as hf_logging

        verbosity = hf_logging.get_verbosity()
        hf_logging.set_verbosity_error()  # a classifier folder loads as its encoder: the unused head is expected
        from lifecycle.loading import check_remote_code, weights_kwargs

        try:
            # configs/rag.yaml gives no consent: an encoder that needs its own code, or has only pickle
            # weights, is refused with the reason (no revision pin, no allow_pickle for embeddings)
            check_remote_code(ref, None, False)
            weights = weights_kwargs(ref, None, False)
            self.tokenizer = AutoTokenizer.from_pretrained(ref)
            self.model = AutoModel.from_pretrained(ref, **weights)
        except (OSError, ValueError) as err:
            raise ModelLoadError(f"embedding model '{ref}' could not be loaded: {str(err).splitlines()[0]}",
                                 hint="set `embedding.model` in configs/rag.yaml to an encoder folder") from err
        finally:
            hf_logging.set_verbosity(verbosity)
        self.model.eval()
        self.ref = ref
        self.max_length = max_length
        self.batch_size = batch_size
        self._torch = torch

    @property
    def dim(self) -> int:
        cfg = self.model.config
        return int(getattr(cfg, "hidden_size", None) or getattr(cfg, "d_model"))

    def encode(self, texts: list[str], *, threads: int | None = None) -> np.ndarray:
        """Unit vectors, one row per text. `threads`: torch intra-op threads for this call (1 for a
        single query: small matrices are latency-bound and extra OpenMP threads only spin)."""
        torch = self._torch
        before = torch.get_num_threads()
        if threads:
            torch.set_num_threads(threads)
        try:
            return self._encode(texts)
        finally:
            torch.set_num_threads(before)

    def _encode(self, texts: list[str]) -> np.ndarray:
        torch = self._torch
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        # longest first: batches of similar length waste less padding
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        with torch.inference_mode():
            for s in range(0, len(order), self.batch_size):
                idx = order[s:s + self.batch_size]
                enc = self.tokenizer([texts[i] for i in idx], padding=True, truncation=True,
                                     max_length=self.max_length, return_tensors="pt")
                hidden = self.model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).last_hidden_state
                mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
                out[idx] = pooled.float().numpy()
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)


def build_faiss(vectors: np.ndarray):
    import faiss

    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index
