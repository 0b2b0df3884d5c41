"""`lifecycle judge`: an automatic judge over pairs, always asked in both orders; when the two
orders disagree the verdict is a tie, which cancels a judge's position bias. `judge calibrate`
measures the judge against people: Cohen's kappa with a bootstrap CI, position and length bias.

A judge is one of
  * an oracle function `module:function(prompt, first, second) -> "first" | "second" | "tie"`;
  * a local model through the batched engine (greedy), asked with a rubric to answer A or B;
  * any OpenAI-compatible endpoint (`lifecycle serve`, vLLM) with a model name.
Judge verdicts go to their own file (default data/preferences/judge_judgments.jsonl), with each
order's raw answer, so that people's judgments and the judge's are never mixed up."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Callable


from lifecycle.align.judgments import cohen_kappa, kappa_ci, read_judgments, votes_by_pair
from lifecycle.errors import LifecycleError

RUBRIC = ("You compare two responses to the same prompt. Prefer the response that is correct, faithful to the "
          "prompt, concise and helpful.")
TEMPLATE = "{rubric}\n\nPrompt:\n{prompt}\n\nResponse A:\n{first}\n\nResponse B:\n{second}\n\nWhich response is better? Answer A or B:"


def parse_verdict(text: str) -> str:
    """'first', 'second' or 'tie' (anything unclear is a tie, never a guess)."""
    m = re.search(r"\b([AB])\b", text.strip().upper())
    return {"A": "first", "B": "second"}[m.group(1)] if m else "tie"


def both_orders(judge_batch: Callable[[list[tuple[str, str, str]]], list[str]], pairs: list[dict]) -> list[dict]:
    """Verdicts for each pair in (a, b) and (b, a) order; final = the side both orders chose, else tie."""
    asks = [(p["prompt"], p["a"], p["b"]) for p in pairs] + [(p["prompt"], p["b"], p["a"]) for p in pairs]
    answers = judge_batch(asks)
    out = []
    for i, p in enumerate(pairs):
        v1, v2 = answers[i], answers[len(pairs) + i]
        s1 = {"first": "a", "second": "b"}.get(v1, "tie")
        s2 = {"first": "b", "second": "a"}.get(v2, "tie")
        out.append({"pair_id": p["pair_id"], "choice": s1 if s1 == s2 else "tie", "order_ab": v1, "order_ba": v2})
    return out


def oracle_judge(spec: str):
    from lifecycle.align.winrate import load_oracle

    fn = load_oracle(spec)
    return lambda asks: [str(fn(p, f, s)) for p, f, s in asks]


def model_judge(loaded, rubric: str = RUBRIC, max_new_tokens: int = 4):
    from lifecycle.config.generation import GenerationSettings
    from lifecycle.generation.engine import Engine

    engine = Engine(loaded, GenerationSettings(preset="greedy", max_new_tokens=max_new_tokens))

    def judge(asks):
        texts = [TEMPLATE.format(rubric=rubric, prompt=p, first=f, second=s) for p, f, s in asks]
        return [parse_verdict(g.text) for g in engine.generate(texts)]

    return judge


def url_judge(url: str, model: str, rubric: str = RUBRIC):
    from openai import OpenAI

    client = OpenAI(base_url=url, api_key="not-needed")

    def judge(asks):
        out = []
        for p, f, s in asks:
            reply = client.chat.completions.create(model=model, max_tokens=4, temperature=0, messages=[
                {"role": "user", "content": TEMPLATE.format(rubric=rubric, prompt=p, first=f, second=s)}])
            out.append(parse_verdict(reply.choices[0].message.content or ""))
        return out

    return judge


def record_verdicts(path: Path, verdicts: list[dict], judge_name: str) -> int:
    from lifecycle.locking import append_line

    done = {j["pair_id"] for j in read_judgments(path, strict_duplicates=False) if j["annotator"] == judge_name}
    n = 0
    for v in verdicts:
        if v["pair_id"] in done:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        append_line(path, json.dumps({"pair_id": v["pair_id"], "annotator": judge_name, "choice": v["choice"],
                                      "order_ab": v["order_ab"], "order_ba": v["order_ba"], "source": "judge"}))
        n += 1
    return n


def calibrate(judge_records: list[dict], human_records: list[dict], pairs: dict[str, dict], *,
              samples: int = 1000, seed: int = 42) -> dict:
    """Judge vs the people's majority on the pairs both judged."""
    humans = {}
    for pid, votes in votes_by_pair(human_records).items():
        (label, n), *rest = votes.most_common()
        if not rest or rest[0][1] < n:
            humans[pid] = label
    judge = {j["pair_id"]: j for j in judge_records if j["choice"] in ("a", "b", "tie")}
    common = sorted(set(judge) & set(humans))
    if len(common) < 2:
        raise LifecycleError(f"only {len(common)} pairs judged by both the judge and people; need at least 2",
                             hint="review more pairs with `lifecycle review`, or judge the reviewed pairs run")
    j_lab, h_lab = [judge[p]["choice"] for p in common], [humans[p] for p in common]
    kappa = cohen_kappa(j_lab, h_lab)
    lo, hi = kappa_ci(j_lab, h_lab, samples=samples, seed=seed)
    single = [v for j in judge.values() for v in (j.get("order_ab"), j.get("order_ba")) if v in ("first", "second")]
    decisive = [judge[p] for p in judge if judge[p]["choice"] in ("a", "b") and p in pairs]
    longer = [len(pairs[j["pair_id"]][j["choice"]]) > len(pairs[j["pair_id"]]["b" if j["choice"] == "a" else "a"])
              for j in decisive]
    return {"n": len(common), "kappa": kappa, "kappa_ci": [float(lo), float(hi)],
            "raw_agreement": sum(a == b for a, b in zip(j_lab, h_lab)) / len(common),
            "position_bias_first": (sum(v == "first" for v in single) / len(single)) if single else None,
            "order_disagreement": sum(j["choice"] == "tie" and "tie" not in (j.get("order_ab"), j.get("order_ba"))
                                      for j in judge.values()) / len(judge),
            "length_bias_longer": (sum(longer) / len(longer)) if longer else None}


CALIBRATION_KIND = "judge_calibration"


def record_calibration(project, result: dict, judge_file: Path, human_file: Path, min_kappa: float | None,
                       argv=None):
    """A `judge_calibration` run: the evidence `adapt.aligned` needs before a judge's win-rate counts."""
    from lifecycle.hashing import file_sha256
    from lifecycle.runs.store import RunStore
    judges = sorted({str(j.get("annotator")) for j in read_judgments(judge_file, strict_duplicates=False)})
    store = RunStore(project.runs_dir)
    with store.new_run(CALIBRATION_KIND, config={"min_kappa": min_kappa, "judges": judges},
                       dataset={"judge_file": str(judge_file), "judge_sha256": file_sha256(judge_file),
                                "human_file": str(human_file), "human_sha256": file_sha256(human_file)},
                       argv=argv) as run:
        run.write_metrics({"n": result["n"], "metrics": {"kappa": {
            "value": result["kappa"], "ci": result["kappa_ci"], "n": result["n"], "higher_is_better": True,
            "aggregation": "Cohen's kappa, judge vs people's majority"}}, "bias": {
            k: result[k] for k in ("raw_agreement", "position_bias_first", "order_disagreement", "length_bias_longer")}})
        run.finish("complete", calibration=result)
    return run
