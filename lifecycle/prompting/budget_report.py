"""`lifecycle prompt budget`: prompt lengths over a dataset for each K, and the largest K that fits."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from lifecycle.errors import PromptError
from lifecycle.prompting.builder import prompt_lengths
from lifecycle.prompting.rendered import _ids
from lifecycle.prompting.shots import ShotPool


def percentile(values: list[int], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), q in [0, 100]."""
    data = sorted(values)
    if not data:
        raise ValueError("no values")
    pos = (len(data) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


@dataclass
class BudgetRow:
    k: int
    p50: float | None = None
    p95: float | None = None
    max: int | None = None
    fit: int = 0
    n: int = 0
    too_long: list[str] = field(default_factory=list)
    problem: str | None = None   # why this K cannot be measured (K larger than the pool)

    @property
    def fits_all(self) -> bool:
        return self.problem is None and self.fit == self.n


@dataclass
class BudgetReport:
    data: str
    model: str
    limit: int
    budget_text: str
    n: int
    rows: list[BudgetRow]
    policy: str

    @property
    def largest_k(self) -> int | None:
        fitting = [r.k for r in self.rows if r.fits_all]
        return max(fitting) if fitting else None

    def to_dict(self) -> dict:
        return {"data": self.data, "model": self.model, "limit": self.limit, "n": self.n, "policy": self.policy,
                "largest_k_fitting_all": self.largest_k, "rows": [asdict(r) for r in self.rows]}

    def lines(self) -> list[str]:
        out = [f"dataset: {self.data} ({self.n} examples)", f"model: {self.model}", f"budget: {self.budget_text}", "",
               f"{'K':>3}  {'p50':>7}  {'p95':>7}  {'max':>6}  {'fit':>{2 * len(str(self.n)) + 1}}"]
        for r in self.rows:
            if r.problem:
                out.append(f"{r.k:>3}  {'-':>7}  {'-':>7}  {'-':>6}  {r.problem}")
                continue
            line = f"{r.k:>3}  {r.p50:>7.1f}  {r.p95:>7.1f}  {r.max:>6}  {f'{r.fit}/{r.n}':>{2 * len(str(self.n)) + 1}}"
            if r.too_long:
                line += f"  too long: {_ids(r.too_long, 3)}"
            out.append(line)
        out.append("")
        if self.largest_k is not None:
            out.append(f"largest K that fits all {self.n} examples: {self.largest_k}")
        else:
            out.append(f"no K listed fits all {self.n} examples")
        zero = next((r for r in self.rows if r.k == 0 and not r.problem), None)
        if zero is not None and zero.too_long:
            out.append(f"{len(zero.too_long)} examples do not fit even with zero shots; budget.policy "
                       f"'{self.policy}' " + ("refuses them: set `budget.policy: auto` to cut their input "
                                                "(recorded per example)" if self.policy == "error"
                                                else "cuts their input (recorded per example)"))
        elif self.policy == "auto":
            out.append("budget.policy 'auto': an example that does not fit with K shots gets its input cut "
                       "(keeping budget.keep_input of it), then fewer shots (recorded per example)")
        return out


def budget_report(inputs, ks: list[int]) -> BudgetReport:
    cfg, examples = inputs.cfg, inputs.examples
    pool_examples = inputs.pool if inputs.pool is not None else examples
    ids = [str(ex[cfg.id_field]) for ex in examples]
    rows = []
    for k in ks:
        try:
            ShotPool(pool_examples, cfg.id_field, cfg.shots).check_k(k, ids)
        except PromptError as err:  # K larger than the pool: report it on its row, measure the other K
            rows.append(BudgetRow(k, n=len(examples), problem=str(err)))
            continue
        lengths = prompt_lengths(examples, cfg, inputs.tokenizer, k=k, pool=inputs.pool)
        too_long = [i for i, n in zip(ids, lengths) if n > inputs.limit]
        rows.append(BudgetRow(k, percentile(lengths, 50), percentile(lengths, 95), max(lengths),
                              len(lengths) - len(too_long), len(lengths), too_long))
    return BudgetReport(str(inputs.data_path), inputs.model_ref, inputs.limit, inputs.budget_text(), len(examples),
                        rows, cfg.budget.policy)
