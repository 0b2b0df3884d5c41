"""A programmatic preference oracle for the tests: it prefers outputs under N characters, shorter
ones among those, and any output that names the word 'Person' above all."""

MAX_CHARS = 12
WORD = "Person"


def score(prompt: str, output: str) -> float:
    text = output.strip()
    return 2.0 * (WORD in text) + 1.0 * (0 < len(text) <= MAX_CHARS) - 0.01 * len(text)


def judge(prompt: str, a: str, b: str) -> str:
    sa, sb = score(prompt, a), score(prompt, b)
    return "a" if sa > sb else "b" if sb > sa else "tie"


def compare(prompt: str, first: str, second: str) -> str:
    """The oracle as a pairwise judge (`lifecycle judge run --oracle align_oracle:compare`)."""
    return {"a": "first", "b": "second", "tie": "tie"}[judge(prompt, first, second)]
