"""The vmap probe of a mask-fit loop: tried once, then its answer holds for the loop."""

from __future__ import annotations

import pytest

from workloads.mask_step import VmapProbe


def no_batching_rule() -> str:
    raise RuntimeError("vmap: no batching rule for aten::item")


def looped() -> str:
    return "looped"


def test_a_model_that_fails_under_vmap_runs_looped_from_then_on():
    probe = VmapProbe(wanted=True)
    with pytest.warns(UserWarning, match="does not vmap"):
        assert probe.run(no_batching_rule, looped) == "looped"
    assert probe.run(lambda: "vectorized", looped) == "looped"


def test_once_vmap_has_worked_a_failure_is_a_real_error():
    probe = VmapProbe(wanted=True)
    assert probe.run(lambda: "vectorized", looped) == "vectorized"
    with pytest.raises(RuntimeError, match="no batching rule"):
        probe.run(no_batching_rule, looped)


def test_a_loop_that_does_not_want_vmap_never_tries_it():
    assert VmapProbe(wanted=False).run(no_batching_rule, looped) == "looped"
