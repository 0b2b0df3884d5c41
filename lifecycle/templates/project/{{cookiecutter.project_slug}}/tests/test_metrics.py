{%- set p = project(cookiecutter) -%}
"""The custom metrics give the values worked out by hand (configs/eval.yaml scores them)."""

import pytest

from {{ p.manifest.project.package }}.metrics import relative_length, word_f1


def test_relative_length():
    assert relative_length("a b c", "d e f") == pytest.approx(1.0)
    assert relative_length("a", "a b c d") == pytest.approx(0.25)
    assert relative_length("a b", "") == pytest.approx(2.0)


def test_word_f1():
    assert word_f1("The cat sat.", "the cat sat") == pytest.approx(1.0)
    # 2 common words; precision 2/3, recall 2/4 -> F1 = 4/7
    assert word_f1("cat sat down", "the cat sat there") == pytest.approx(4 / 7)
    assert word_f1("dog", "cat") == 0.0
