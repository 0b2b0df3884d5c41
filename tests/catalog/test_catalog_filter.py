"""The catalog filter behind `lifecycle models ls`, as a library call, against a plain reading of models.yaml."""

from __future__ import annotations

import pytest
import yaml

from lifecycle.catalog import CATALOG_FILE, load_catalog
from lifecycle.catalog.filter import ARCHITECTURES, CatalogFilter, filter_catalog, parse_count
from lifecycle.errors import CatalogError


def _raw() -> list[dict]:
    return yaml.safe_load(CATALOG_FILE.read_text(encoding="utf-8"))["models"]


def test_no_criteria_keeps_the_whole_catalog_in_order():
    assert [e.id for e in filter_catalog(CatalogFilter())] == [m["id"] for m in _raw()]


def test_each_criterion_matches_a_plain_reading_of_the_yaml():
    raw = _raw()
    got = filter_catalog(CatalogFilter.from_text(task="chat", architecture="decoder", max_params="8B",
                                                 commercial_only=True))
    want = [m["id"] for m in raw if "chat" in m["tasks"] and m["architecture"] == "decoder"
            and m["parameters"] <= 8e9 and m["commercial_use"]]
    assert want and [e.id for e in got] == want
    mit = filter_catalog(CatalogFilter(licence="MIT"))
    assert [e.id for e in mit] == [m["id"] for m in raw if m["licence"].lower() == "mit"]


def test_given_entries_are_filtered_instead_of_the_catalog():
    some = load_catalog()[:3]
    assert filter_catalog(CatalogFilter(max_parameters=0), some) == []
    assert filter_catalog(CatalogFilter(), some) == list(some)


@pytest.mark.parametrize("text,count", [("3B", 3_000_000_000), ("500m", 500_000_000), ("1.5B", 1_500_000_000),
                                        ("7000", 7000), (" 20K ", 20_000), ("2G", 2_000_000_000)])
def test_parse_count(text, count):
    assert parse_count(text) == count


def test_bad_values_are_one_line_catalog_errors():
    with pytest.raises(CatalogError, match="cannot read parameter count 'lots'"):
        CatalogFilter.from_text(max_params="lots")
    with pytest.raises(CatalogError, match="did you mean 'decoder'"):
        CatalogFilter(architecture="decodr")
    assert ARCHITECTURES == ("encoder", "encoder-decoder", "decoder")
