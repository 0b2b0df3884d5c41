"""genai-lifecycle's metrics restated with only `rouge_score` and `sacrebleu`, for exported tasks.

`lifecycle eval export` copies this file verbatim (after filling the CONFIG block) as lm-eval's
`utils.py` and as promptfoo's `lifecycle_assert.py`, so that an export scores where genai-lifecycle
is not installed. It must therefore never import `lifecycle`; tests check that every function here
gives the numbers of `lifecycle.evaluation.metrics.scorers` on real text.
"""
# ruff: noqa: E501
import json
import re
import string
from collections import Counter
from pathlib import Path

# --- CONFIG (written by `lifecycle eval export`) ---
METRICS = {}            # metric name -> its arguments, as configs/eval.yaml computes them
CORPUS = []             # the metrics whose value is a corpus formula (not a mean of examples)
REFERENCE_FIELD = "reference"
ID_FIELD = "id"
DATA = {}               # split name -> data file, relative to this file
LIMIT = None            # configs/eval.yaml dataset.limit
SHOT_IDS = None         # shots.selection fixed: the shot ids, in order
SUCCESS = None          # {"metric", "target", "higher_is_better"} for the promptfoo assertion
# --- END CONFIG ---

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCT = set(string.punctuation)
_TRAILING = ".,;:!?"
_WRAPPERS = "\"'`()[]{}<>*"


def squad_normalize(text):
    """SQuAD v1.1 `normalize_answer`: lower-case, drop punctuation and articles, collapse whitespace."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCT)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def label_normalize(text):
    """First non-empty line; quotes, brackets, trailing punctuation and extra whitespace removed; case folded."""
    lines = [line for line in str(text).splitlines() if line.strip()]
    first = lines[0] if lines else ""
    prev = None
    while prev != first:
        prev = first
        first = first.strip().strip(_WRAPPERS).rstrip(_TRAILING)
    return " ".join(first.split()).casefold()


def _norm(args):
    return label_normalize if args.get("normalize", True) else (lambda s: s)


def _token_f1(prediction, reference):
    pred = squad_normalize(prediction).split()
    ref = squad_normalize(reference).split()
    same = sum((Counter(pred) & Counter(ref)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(ref)
    return (2 * precision * recall) / (precision + recall)


def _label_space(args, norm):
    labels = args.get("labels")
    if labels:
        return list(dict.fromkeys(norm(str(x)) for x in labels)), True
    return None, False


_SCORERS = {}


def _rouge_scorer(name, use_stemmer):
    from rouge_score import rouge_scorer

    key = (name, use_stemmer)
    if key not in _SCORERS:
        _SCORERS[key] = rouge_scorer.RougeScorer([name], use_stemmer=use_stemmer)
    return _SCORERS[key]


def score_example(name, args, prediction, refs):
    """One example's score for a mean metric (the run's value is the mean of these)."""
    if name.startswith("rouge"):
        scorer = _rouge_scorer(name, bool(args.get("use_stemmer", True)))
        return max(scorer.score(r, prediction)[name].fmeasure for r in refs)
    if name == "exact_match":
        return max(float(squad_normalize(prediction) == squad_normalize(r)) for r in refs)
    if name == "token_f1":
        return max(_token_f1(prediction, r) for r in refs)
    if name == "accuracy":
        norm = _norm(args)
        return float(any(norm(prediction) == norm(r) for r in refs))
    if name == "off_label_rate":
        norm = _norm(args)
        space, _ = _label_space(args, norm)
        return float(norm(prediction) not in set(space if space is not None else [norm(r) for r in refs]))
    if name in CORPUS or name in ("sacrebleu", "chrf", "macro_f1"):
        return score_corpus(name, args, [prediction], [refs])
    raise ValueError(f"metric {name!r} has no exported implementation")


def score_corpus(name, args, predictions, references):
    """A corpus metric over all examples, by its own formula."""
    if name in ("sacrebleu", "chrf"):
        from sacrebleu.metrics import BLEU, CHRF

        if name == "sacrebleu":
            metric = BLEU(lowercase=args.get("lowercase", False), tokenize=args.get("tokenize"),
                          smooth_method=args.get("smooth_method", "exp"), smooth_value=args.get("smooth_value"))
        else:
            metric = CHRF(char_order=args.get("char_order", 6), word_order=args.get("word_order", 0),
                          beta=args.get("beta", 2), lowercase=args.get("lowercase", False),
                          whitespace=args.get("whitespace", False))
        k = max(len(r) for r in references)
        streams = [[refs[j] if j < len(refs) else None for refs in references] for j in range(k)]
        return float(metric.corpus_score(list(predictions), streams).score)
    if name == "macro_f1":
        norm = _norm(args)
        y_true = [norm(refs[0]) for refs in references]
        y_pred = [norm(p) for p in predictions]
        space, declared = _label_space(args, norm)
        space = space if declared else sorted(set(y_true) | set(y_pred))
        f1s = []
        for lab in space:
            tp = sum(t == lab and p == lab for t, p in zip(y_true, y_pred))
            fp = sum(t != lab and p == lab for t, p in zip(y_true, y_pred))
            fn = sum(t == lab and p != lab for t, p in zip(y_true, y_pred))
            if 2 * tp + fp + fn:
                f1s.append(2 * tp / (2 * tp + fp + fn))
            elif declared:
                f1s.append(0.0)  # a declared label nobody used or predicted scores 0 (sklearn labels=)
        return sum(f1s) / len(space) if declared else (sum(f1s) / len(f1s) if f1s else 0.0)
    raise ValueError(f"metric {name!r} has no exported implementation")


def references(doc):
    r = doc[REFERENCE_FIELD]
    return [str(x) for x in r] if isinstance(r, (list, tuple)) else [str(r)]


# lm-eval -----------------------------------------------------------------------------------------
def _read(path, split):
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if split == "shots" and SHOT_IDS:
        by_id = {str(r[ID_FIELD]): r for r in rows}
        return [by_id[i] for i in SHOT_IDS]
    return rows[:LIMIT] if LIMIT and split == "test" else rows


def load_docs(**kwargs):
    """lm-eval `custom_dataset`: the eval set (and shot pool) from paths relative to this file."""
    import datasets

    here = Path(__file__).resolve().parent
    out = {}
    for split, rel in DATA.items():
        out[split] = datasets.Dataset.from_list(_read(here / rel, split))
    return datasets.DatasetDict(out)


def process_results(doc, results):
    prediction = results[0].strip()
    refs = references(doc)
    out = {}
    for name, args in METRICS.items():
        out[name] = (prediction, refs) if name in CORPUS else score_example(name, args, prediction, refs)
    return out


def _agg(name, items):
    return score_corpus(name, METRICS[name], [p for p, _ in items], [r for _, r in items])


def agg_sacrebleu(items):
    return _agg("sacrebleu", items)


def agg_chrf(items):
    return _agg("chrf", items)


def agg_macro_f1(items):
    return _agg("macro_f1", items)


# promptfoo ---------------------------------------------------------------------------------------
def get_assert(output, context):
    """promptfoo python assertion: the success metric on this example against its target."""
    name, target, higher = SUCCESS["metric"], SUCCESS["target"], SUCCESS["higher_is_better"]
    refs = context["vars"]["references"]
    refs = [refs] if isinstance(refs, str) else list(refs)
    score = float(score_example(name, METRICS.get(name, {}), str(output).strip(), refs))
    ok = score >= target if higher else score <= target
    kind = " (this example alone; the run's value is the corpus formula)" if name in CORPUS else ""
    return {"pass": ok, "score": score, "reason": f"{name} = {score:.4f}{kind}, target {target}"}
