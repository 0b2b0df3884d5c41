"""ROUGE-1/2/L/Lsum with the exact numbers of `rouge_score`, computed faster.

Same tokeniser (lower-case, non-alphanumerics to spaces, Porter stemming of words longer than
three characters), same formulas, same multi-reference rule (best F-measure per example). What
differs is only the work done:
  * each text is tokenised once for all four ROUGE types, and each distinct word is stemmed once
    (the Porter stemmer dominates `rouge_score`'s run time);
  * ROUGE-L's LCS length uses the bit-parallel algorithm (Hyyro 2004) on Python integers instead of
    an O(m*n) Python table; it returns the same integer, so the floats are identical;
  * large inputs are split across processes.
ROUGE-Lsum splits sentences on newlines, as the Hub `rouge` module does (it never calls nltk;
summarisation scripts put one sentence per line before scoring). When both texts are a single line
Lsum equals ROUGE-L exactly; otherwise `rouge_score`'s own summary-level LCS is called on our tokens.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from typing import Sequence

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL", "rougeLsum")

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_SPACES = re.compile(r"\s+")
_VALID = re.compile(r"^[a-z0-9]+$")
_MISSING = object()
# Below this many pairs a process pool costs more than it saves.
PARALLEL_MIN_PAIRS = 2000


def fmeasure(precision: float, recall: float) -> float:
    # The expression of rouge_score.scoring.fmeasure, kept verbatim so floats match bit for bit.
    if precision + recall > 0:
        return 2 * precision * recall / (precision + recall)
    return 0.0


def lcs_length(a: Sequence[int], b: Sequence[int]) -> int:
    """Length of the longest common subsequence, bit-parallel over positions of `a`."""
    if not a or not b:
        return 0
    masks: dict[int, int] = {}
    for i, x in enumerate(a):
        masks[x] = masks.get(x, 0) | (1 << i)
    full = (1 << len(a)) - 1
    v = full
    for y in b:
        u = v & masks.get(y, 0)
        v = ((v + u) | (v - u)) & full
    return len(a) - bin(v).count("1")


class Tokenizer:
    """`rouge_score.tokenize.tokenize` with a per-word cache, returning integer token ids."""

    def __init__(self, use_stemmer: bool = True) -> None:
        if use_stemmer:
            from nltk.stem import porter

            self._stemmer = porter.PorterStemmer()
        else:
            self._stemmer = None
        self._cache: dict[str, object] = {}
        self._ids: dict[str, int] = {}
        self.vocab: list[str] = []

    def _word(self, w: str):
        tok = self._stemmer.stem(w) if (self._stemmer is not None and len(w) > 3) else w
        if not _VALID.match(tok):
            return None
        tid = self._ids.get(tok)
        if tid is None:
            tid = self._ids[tok] = len(self.vocab)
            self.vocab.append(tok)
        return tid

    def ids(self, text: str) -> list[int]:
        cache = self._cache
        out = []
        for w in _SPACES.split(_NON_ALNUM.sub(" ", text.lower())):
            t = cache.get(w, _MISSING)
            if t is _MISSING:
                t = cache[w] = self._word(w)
            if t is not None:
                out.append(t)
        return out

    def tokens(self, text: str) -> list[str]:
        return [self.vocab[i] for i in self.ids(text)]


@dataclass
class _Text:
    tokens: list[int]
    sentences: list[list[int]]  # newline-split, as rouge_score's rougeLsum sees them
    single_line: bool
    grams1: dict
    grams2: dict


def _ngrams(tokens: list[int], n: int) -> dict:
    counts: dict = {}
    if n == 1:
        for t in tokens:
            counts[t] = counts.get(t, 0) + 1
    else:
        for g in zip(*(tokens[i:] for i in range(n))):
            counts[g] = counts.get(g, 0) + 1
    return counts


def _ngram_f(ref: dict, pred: dict) -> float:
    if len(ref) > len(pred):
        inter = sum(min(c, ref[g]) for g, c in pred.items() if g in ref)
    else:
        inter = sum(min(c, pred[g]) for g, c in ref.items() if g in pred)
    precision = inter / max(sum(pred.values()), 1)
    recall = inter / max(sum(ref.values()), 1)
    return fmeasure(precision, recall)


class FastRouge:
    """Per-example ROUGE F-measures, identical to `rouge_score.RougeScorer(use_stemmer=...)`."""

    def __init__(self, rouge_types: Sequence[str] = ROUGE_TYPES, use_stemmer: bool = True) -> None:
        unknown = [t for t in rouge_types if t not in ROUGE_TYPES]
        if unknown:
            raise ValueError(f"unsupported rouge types {unknown}; supported: {list(ROUGE_TYPES)}")
        self.rouge_types = tuple(rouge_types)
        self.use_stemmer = use_stemmer
        self._tok = Tokenizer(use_stemmer)

    def _text(self, text: str) -> _Text:
        tokens = self._tok.ids(text)
        single_line = "\n" not in text
        if single_line:
            sentences = [tokens] if len(text) else []
        else:
            sentences = [self._tok.ids(s) for s in text.split("\n") if len(s)]
        need_n = any(t in ("rouge1", "rouge2") for t in self.rouge_types)
        return _Text(tokens, sentences, single_line,
                     _ngrams(tokens, 1) if need_n else {}, _ngrams(tokens, 2) if need_n else {})

    def _pair(self, ref: _Text, pred: _Text, lcs_cache: dict) -> dict[str, float]:
        out = {}
        for rt in self.rouge_types:
            if rt == "rouge1":
                out[rt] = _ngram_f(ref.grams1, pred.grams1)
            elif rt == "rouge2":
                out[rt] = _ngram_f(ref.grams2, pred.grams2)
            elif rt == "rougeL" or (ref.single_line and pred.single_line):
                if "L" not in lcs_cache:
                    lcs_cache["L"] = self._lcs_f(ref.tokens, pred.tokens)
                out[rt] = lcs_cache["L"]
            else:
                out[rt] = self._lsum_f(ref, pred)
        return out

    @staticmethod
    def _lcs_f(ref: list[int], pred: list[int]) -> float:
        if not ref or not pred:
            return 0.0
        lcs = lcs_length(ref, pred)
        return fmeasure(lcs / len(pred), lcs / len(ref))

    @staticmethod
    def _lsum_f(ref: _Text, pred: _Text) -> float:
        from rouge_score.rouge_scorer import _summary_level_lcs

        return _summary_level_lcs(ref.sentences, pred.sentences).fmeasure

    def score_one(self, references: Sequence[str], prediction: str) -> dict[str, float]:
        """Best F-measure over the references, per ROUGE type (rouge_score's score_multi)."""
        pred = self._text(prediction)
        best: dict[str, float] = {}
        for r in references:
            ref = self._text(r)
            scores = self._pair(ref, pred, {})
            for k, v in scores.items():
                if k not in best or v > best[k]:
                    best[k] = v
        return best

    def score_many(self, references: Sequence[Sequence[str]], predictions: Sequence[str]) -> dict[str, list[float]]:
        out: dict[str, list[float]] = {t: [] for t in self.rouge_types}
        for refs, pred in zip(references, predictions):
            for k, v in self.score_one(refs, pred).items():
                out[k].append(v)
        return out


def _score_chunk(args) -> dict[str, list[float]]:
    rouge_types, use_stemmer, refs, preds = args
    return FastRouge(rouge_types, use_stemmer).score_many(refs, preds)


def rouge_per_example(predictions: Sequence[str], references: Sequence[Sequence[str]], *,
                      rouge_types: Sequence[str] = ROUGE_TYPES, use_stemmer: bool = True,
                      workers: int | None = None) -> dict[str, list[float]]:
    """Per-example F-measures for each ROUGE type; `references[i]` is a list of references.

    `workers=None` uses every core for large inputs (fork-based processes) unless torch or
    tokenizers are loaded; `workers=1` stays in this process."""
    n = len(predictions)
    if workers is None:
        # Forking a process that holds torch's / tokenizers' thread pools risks deadlocks in the
        # children; after generation (torch loaded) scoring stays in-process, which is still fast.
        forkable = "torch" not in sys.modules and "tokenizers" not in sys.modules
        workers = (os.cpu_count() or 1) if (n >= PARALLEL_MIN_PAIRS and forkable) else 1
    workers = max(1, min(workers, n or 1))
    if workers == 1:
        return FastRouge(rouge_types, use_stemmer).score_many(references, predictions)
    import multiprocessing as mp

    bounds = [round(i * n / workers) for i in range(workers + 1)]
    chunks = [(tuple(rouge_types), use_stemmer, references[a:b], predictions[a:b])
              for a, b in zip(bounds, bounds[1:])]
    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()
    with ctx.Pool(workers) as pool:
        parts = pool.map(_score_chunk, chunks)
    out: dict[str, list[float]] = {t: [] for t in rouge_types}
    for part in parts:
        for k in out:
            out[k].extend(part[k])
    return out
