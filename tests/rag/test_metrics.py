"""Groundedness and retrieval metrics on canned answers, with values worked out by hand."""

from __future__ import annotations

import pytest

from lifecycle.evaluation.metrics import grounding as M
from lifecycle.evaluation.statistics.intervals import metrics_doc

PASSAGES = ["Quillon Dynamics was started in 2009 by the engineer Tamsin Oakhollow. It employs 640 people.",
            "The Wrenlet Mark 4 flies for 38 minutes on one winding and weighs 212 grams."]
SUPPORTED = "Tamsin Oakhollow started Quillon Dynamics in 2009."
INVENTED = "Tamsin Oakhollow started it in 2011 with Boris Klemp."   # 2011, boris, klemp are not in the passages
ABSTAINING = "I don't know."


def test_support_precision_on_supported_partly_invented_and_abstaining():
    assert M.support(SUPPORTED, PASSAGES) == (1.0, [])
    share, missing = M.support(INVENTED, PASSAGES)
    # content tokens: tamsin oakhollow started 2011 boris klemp -> 3 of 6 found
    assert share == pytest.approx(0.5) and missing == ["2011", "boris", "klemp"]
    assert M.abstains(ABSTAINING) and M.abstains("") and not M.abstains(SUPPORTED)
    s = M.support_precision([SUPPORTED, INVENTED, ABSTAINING], [PASSAGES] * 3)
    assert s.value == pytest.approx(0.75) and len(s.per_example) == 2  # the abstention is left out


def test_unsupported_rate_counts_invented_numbers_even_above_the_threshold():
    assert not M.is_unsupported(SUPPORTED, PASSAGES)
    assert M.is_unsupported(INVENTED, PASSAGES)
    one_wrong_number = "Quillon Dynamics employs 650 people."  # 4 of 5 tokens supported, but the number is not
    assert M.support(one_wrong_number, PASSAGES)[0] == pytest.approx(0.8)
    assert M.is_unsupported(one_wrong_number, PASSAGES)
    rate = M.unsupported_answer_rate([SUPPORTED, INVENTED, ABSTAINING, one_wrong_number], [PASSAGES] * 4)
    assert rate.value == pytest.approx(0.5) and list(rate.per_example) == [0, 1, 0, 1]


def test_numbers_match_with_thousands_separators():
    assert M.support("About 1200 lanterns.", ["Visitors float 1,200 paper lanterns."])[0] == 1.0


def test_abstention_rate_only_on_unanswerable_questions():
    s = M.abstention_rate([SUPPORTED, ABSTAINING, "It costs 40 crowns.", "Not in the context."],
                          [True, False, False, False])
    assert s.value == pytest.approx(2 / 3) and len(s.per_example) == 3


def test_citation_validity():
    ok = "Tamsin Oakhollow started it in 2009 [1]. It flies for 38 minutes [2]."
    assert M.citation_check(ok, PASSAGES) == (2, 2)
    wrong_passage = "It flies for 38 minutes [1]."      # passage 1 does not say so
    out_of_range = "It weighs 212 grams [3]."            # only two passages were given
    assert M.citation_check(wrong_passage, PASSAGES) == (0, 1)
    assert M.citation_check(out_of_range, PASSAGES) == (0, 1)
    s = M.citation_validity([ok, wrong_passage, out_of_range, SUPPORTED], [PASSAGES] * 4)
    assert s.value == pytest.approx(1 / 3) and len(s.per_example) == 3  # no citations: left out


def test_recall_at_k_and_mrr_against_gold_ids():
    retrieved = [[{"id": "a.md#0", "doc_id": "a.md"}, {"id": "b.md#0", "doc_id": "b.md"}],
                 [{"id": "c#0", "doc_id": "c"}, {"id": "d#1", "doc_id": "d"}, {"id": "e#0", "doc_id": "e"}],
                 [{"id": "x#0", "doc_id": "x"}]]
    gold = [["b.md"], ["e", "d#1"], []]  # a gold id matches a document or one chunk; no gold: unanswerable
    assert M.recall_at_k(retrieved, gold, 1).value == pytest.approx(0.0)
    assert M.recall_at_k(retrieved, gold, 2).value == pytest.approx((1 + 0.5) / 2)
    assert M.recall_at_k(retrieved, gold, 3).value == pytest.approx(1.0)
    assert M.mrr(retrieved, gold).value == pytest.approx((1 / 2 + 1 / 2) / 2)


def test_metrics_doc_has_bootstrap_intervals_and_directions():
    from lifecycle.evaluation.statistics.bootstrap import bootstrap_ci

    scores = M.groundedness_scores([SUPPORTED, INVENTED, ABSTAINING, SUPPORTED], [PASSAGES] * 4,
                                   [True, True, False, True])
    doc = metrics_doc(scores, samples=200)
    u = doc["metrics"]["unsupported_answer_rate"]
    assert u["value"] == pytest.approx(0.25) and u["higher_is_better"] is False and u["n"] == 4
    assert list(u["ci"]) == list(bootstrap_ci(scores["unsupported_answer_rate"], samples=200))
    assert u["ci"][0] <= u["value"] <= u["ci"][1]
    assert doc["metrics"]["abstention_rate"]["value"] == 1.0


def test_registry_lists_and_computes_the_context_metrics(cli):
    from lifecycle.errors import EvaluationError
    from lifecycle.evaluation.metrics.registry import compute_metrics, direction, get_metric
    from lifecycle.evaluation.metrics import grounding as rag

    code, out, _ = cli("eval", "metrics", "--task", "question_answering")
    shown = {line.split()[0]: line.split()[1] for line in out.splitlines()[1:] if not line.startswith("groups")}
    assert code == 0 and shown["recall_at_k"] == shown["mrr"] == shown["abstention_rate"] == "higher"
    assert shown["unsupported_answer_rate"] == "lower" and "support_precision" in shown and "citation_validity" in shown
    assert get_metric("recall_at_3").higher_is_better is True and direction("unsupported_answer_rate") is False
    answers = ["Idony Falk founded it [1].", "It was founded by Marten Oyle in 1801.", "I don't know"]
    passages = [["Ostrel Harbour was founded in 1742 by Idony Falk."]] * 2 + [["The lighthouse is 47 metres tall."]]
    retrieved = [[{"id": "v.md#0", "doc_id": "v.md"}, {"id": "l.md#0", "doc_id": "l.md"}]] * 2 + [[{"id": "l.md#0"}]]
    context = {"passages": passages, "retrieved": retrieved, "gold": [["v.md"], ["l.md"], []],
               "answerable": [True, True, False]}
    got = compute_metrics(["recall_at_1", "mrr", "support_precision", "unsupported_answer_rate", "abstention_rate",
                           "citation_validity"], answers, [["Idony Falk"]] * 3, context=context)
    assert got["recall_at_1"].value == 0.5 and got["mrr"].value == 0.75
    assert got["unsupported_answer_rate"].value == rag.unsupported_answer_rate(answers, passages).value == pytest.approx(1 / 3)
    assert got["abstention_rate"].value == 1.0 and got["citation_validity"].value == 1.0
    assert got["support_precision"].value == rag.support_precision(answers, passages).value
    with pytest.raises(EvaluationError, match="needs passages of a retrieval run"):
        compute_metrics(["unsupported_answer_rate"], answers, [["x"]] * 3)
    with pytest.raises(EvaluationError, match="argument"):
        compute_metrics([("mrr", {"k": 3})], answers, [["x"]] * 3, context=context)
