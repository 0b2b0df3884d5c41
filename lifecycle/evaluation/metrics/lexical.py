"""Lexical analysis shared by BM25 and the groundedness metrics: lower-cased word tokens, numbers
with their thousands separators removed ("3,418" == "3418"), a small English stopword list."""

from __future__ import annotations

import re

_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")

STOPWORDS = frozenset("""
a an and are as at be been but by can could did do does for from had has have he her his how i if in
into is it its it's many may me more most much my no nor not of on one or our she so such than that the
their them then there these they this those to too us was we were what when where which who whom why
will with would you your about after all also any because before being between both each few here
just only other over same some still through under until up very while out off own
""".split())


def _norm_number(tok: str) -> str:
    return tok.replace(",", "")


def tokens(text: str) -> list[str]:
    """Every word and number, lower-cased (numbers normalised)."""
    return [_norm_number(t) if t[0].isdigit() else t for t in _TOKEN.findall(text.lower())]


def index_tokens(text: str) -> list[str]:
    """Tokens BM25 indexes: stopwords removed."""
    return [t for t in tokens(text) if t not in STOPWORDS]


def content_tokens(text: str) -> list[str]:
    """The answer's content: words that are not stopwords, and numbers."""
    return [t for t in tokens(text) if t not in STOPWORDS and (len(t) > 1 or t.isdigit())]


def is_number(tok: str) -> bool:
    return bool(_NUMBER.fullmatch(tok))
