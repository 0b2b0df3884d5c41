"""Retrieval and groundedness metrics, offline and lexical, each returned as `Scores` (per-example
values) so that bootstrap intervals and paired tests (lifecycle/evaluation/statistics/bootstrap.py) apply unchanged.

    recall_at_k              share of an answerable question's gold passages in the top k (mean)
    mrr                      1 / rank of the first gold passage (0 when none is retrieved)
    support_precision        share of the answer's content words / numbers / names found in the
                             retrieved passages (answers that abstain are left out)
    unsupported_answer_rate  share of questions answered (not abstained) with an unsupported answer:
                             support below the threshold, or a number the passages lack
    abstention_rate          share of unanswerable questions where the model abstained
    citation_validity        share of [n] citations that name a passage given to the model and that
                             passage shares content with the cited sentence (answers with citations)

A gold id matches a retrieved chunk by its chunk id or its document id. The names, directions and
descriptions are registered in lifecycle/evaluation/metrics/registry.py (CONTEXT_METRICS), whose
compute_metrics(..., context=...) calls these functions."""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np

from lifecycle.evaluation.metrics.lexical import content_tokens, is_number, tokens
from lifecycle.evaluation.metrics.scorers import Scores, mean_scores

ABSTAIN = re.compile(
    r"\b(i (do not|don't|dont) know|not (in|stated in|mentioned in|given in) the (context|passages?|documents?)|"
    r"cannot (be )?answer|can't answer|unanswerable|no (information|answer)|unknown|not enough information)\b",
    re.IGNORECASE)
CITATION = re.compile(r"\[(\d{1,3})\]")


def _empty() -> Scores:
    return Scores(float("nan"), np.zeros(0), np.zeros((0, 1)), lambda s, n: s[:, 0] / max(n, 1))


def _hit(item, gold: set[str]) -> bool:
    if isinstance(item, dict):
        return item.get("id") in gold or item.get("doc_id") in gold
    return str(item) in gold or str(item).split("#")[0] in gold


def recall_at_k(retrieved: Sequence[Sequence], gold: Sequence[Sequence[str]], k: int) -> Scores:
    """Per answerable question (non-empty gold): gold ids found in the top k / gold ids."""
    vals = []
    for items, g in zip(retrieved, gold):
        if not g:
            continue
        top = list(items)[:k]
        found = {x for x in g if any(_hit(it, {x}) for it in top)}
        vals.append(len(found) / len(set(g)))
    return mean_scores(vals) if vals else _empty()


def mrr(retrieved: Sequence[Sequence], gold: Sequence[Sequence[str]]) -> Scores:
    vals = []
    for items, g in zip(retrieved, gold):
        if not g:
            continue
        rank = next((r for r, it in enumerate(items, start=1) if _hit(it, set(g))), None)
        vals.append(1.0 / rank if rank else 0.0)
    return mean_scores(vals) if vals else _empty()


def abstains(answer: str) -> bool:
    return not answer.strip() or bool(ABSTAIN.search(answer))


def support(answer: str, passages: Sequence[str]) -> tuple[float, list[str]]:
    """(share of content tokens found in the passages, the tokens not found).
    An answer without content tokens (e.g. "yes") counts as fully supported."""
    words = content_tokens(CITATION.sub(" ", answer))
    if not words:
        return 1.0, []
    have = set(tokens(" ".join(passages)))
    missing = [w for w in words if w not in have]
    return 1.0 - len(missing) / len(words), missing


def is_unsupported(answer: str, passages: Sequence[str], threshold: float = 0.75) -> bool:
    share, missing = support(answer, passages)
    return share < threshold or any(is_number(w) for w in missing)


def support_precision(answers: Sequence[str], passages: Sequence[Sequence[str]]) -> Scores:
    vals = [support(a, p)[0] for a, p in zip(answers, passages) if not abstains(a)]
    return mean_scores(vals) if vals else _empty()


def unsupported_flags(answers: Sequence[str], passages: Sequence[Sequence[str]], threshold: float = 0.75) -> list[float]:
    """Per question: 1 when answered (not abstained) with an unsupported answer, else 0."""
    return [float(not abstains(a) and is_unsupported(a, p, threshold)) for a, p in zip(answers, passages)]


def unsupported_answer_rate(answers, passages, threshold: float = 0.75) -> Scores:
    flags = unsupported_flags(answers, passages, threshold)
    return mean_scores(flags) if flags else _empty()


def abstention_rate(answers: Sequence[str], answerable: Sequence[bool]) -> Scores:
    vals = [float(abstains(a)) for a, ok in zip(answers, answerable) if not ok]
    return mean_scores(vals) if vals else _empty()


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


def citation_check(answer: str, passages: Sequence[str]) -> tuple[int, int]:
    """(valid, total) citations. [n] is valid when 1 <= n <= len(passages) and passage n holds at least
    half of the content words of the sentence that cites it."""
    valid = total = 0
    for sentence in _sentences(answer):
        cited = [int(n) for n in CITATION.findall(sentence)]
        words = content_tokens(CITATION.sub(" ", sentence))
        for n in cited:
            total += 1
            if not 1 <= n <= len(passages):
                continue
            have = set(tokens(passages[n - 1]))
            if not words or sum(w in have for w in words) / len(words) >= 0.5:
                valid += 1
    return valid, total


def citation_validity(answers: Sequence[str], passages: Sequence[Sequence[str]]) -> Scores:
    vals = []
    for a, p in zip(answers, passages):
        valid, total = citation_check(a, p)
        if total:
            vals.append(valid / total)
    return mean_scores(vals) if vals else _empty()


def groundedness_scores(answers: Sequence[str], passages: Sequence[Sequence[str]], answerable: Sequence[bool], *,
                        threshold: float = 0.75, citations: bool = False) -> dict[str, Scores]:
    out = {"support_precision": support_precision(answers, passages),
           "unsupported_answer_rate": unsupported_answer_rate(answers, passages, threshold),
           "abstention_rate": abstention_rate(answers, answerable)}
    if citations:
        out["citation_validity"] = citation_validity(answers, passages)
    return out


def retrieval_scores(retrieved: Sequence[Sequence], gold: Sequence[Sequence[str]], ks: Sequence[int] = (1, 3, 5)
                     ) -> dict[str, Scores]:
    out = {f"recall_at_{k}": recall_at_k(retrieved, gold, k) for k in ks}
    out["mrr"] = mrr(retrieved, gold)
    return out
