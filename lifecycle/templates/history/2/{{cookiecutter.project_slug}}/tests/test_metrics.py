{%- set p = project(cookiecutter) -%}
"""The custom metric gives the values worked out by hand."""

import pytest

from {{ p.manifest.project.package }}.metrics import length_ratio, word_f1


def test_length_ratio():
    assert length_ratio(["a b", "c d e f"], ["a b c", "d e f"]) == pytest.approx(1.0)
    assert length_ratio(["a"], ["a b c d"]) == pytest.approx(0.25)


def test_length_ratio_needs_pairs():
    with pytest.raises(ValueError):
        length_ratio(["a"], [])


def test_word_f1():
    assert word_f1("The cat sat.", "the cat sat") == pytest.approx(1.0)
    # 2 common words; precision 2/3, recall 2/4 -> F1 = 4/7
    assert word_f1("cat sat down", "the cat sat there") == pytest.approx(4 / 7)
    assert word_f1("dog", "cat") == 0.0
