"""`models estimate MODEL --method ...` without --project: the question built from the flags (library call)."""

from __future__ import annotations

import pytest

from lifecycle.catalog.memory import MemoryRequest
from lifecycle.errors import CatalogError


def test_unset_flags_take_the_defaults():
    assert MemoryRequest.from_flags({"method": None, "dtype": None, "batch_size": None}) == MemoryRequest()
    assert MemoryRequest.from_flags({}) == MemoryRequest(method="inference", dtype="bf16")


@pytest.mark.parametrize("method,dtype", [("inference", "bf16"), ("full", "bf16"), ("lora", "bf16"), ("qlora", "int4")])
def test_dtype_defaults_to_the_methods_own(method, dtype):
    assert MemoryRequest.from_flags({"method": method}).dtype == dtype
    assert MemoryRequest.from_flags({"method": method, "dtype": "fp32"}).dtype == "fp32"


def test_given_flags_are_kept_and_checked_as_one_question():
    r = MemoryRequest.from_flags({"method": "lora", "batch_size": 4, "seq_len": 64, "target_modules": ("q", "v")})
    assert (r.method, r.batch_size, r.seq_len, r.target_modules, r.lora_r) == ("lora", 4, 64, ("q", "v"), 8)
    with pytest.raises(CatalogError, match="unknown device 'tpu'"):
        MemoryRequest.from_flags({"device": "tpu"}).check()
