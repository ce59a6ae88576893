"""Every ``>>>`` example in the package runs (on the installed package, like users see it)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import dedup

MODULES = sorted(
    name for _, name, _ in pkgutil.walk_packages(dedup.__path__, "dedup.")
    if name not in ("dedup.__main__", "dedup.engines.ray")
)


@pytest.mark.parametrize("name", ["dedup"] + MODULES)
def test_doctests(name):
    if name == "dedup.hf":
        pytest.importorskip("datasets", reason="the datasets integration needs 'datasets'")
    module = importlib.import_module(name)
    failures, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert failures == 0
