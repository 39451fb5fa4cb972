"""Package versions are found without scanning every installed distribution when the
module is named like its distribution (the first cell of every kernel pays for that scan)."""

from __future__ import annotations

from importlib import metadata

import numpy
import pytest

from hitnb.hashing import code


@pytest.fixture
def no_scan(monkeypatch):
    def scan():
        raise AssertionError("every installed distribution was scanned")

    code.clear_version_cache()
    monkeypatch.setattr(code, "_distributions", scan)
    yield
    monkeypatch.undo()
    code.clear_version_cache()


def test_a_module_named_like_its_distribution_needs_no_scan(no_scan):
    name, version = code.package_version(numpy, "patch")
    assert (name, version) == ("numpy", numpy.__version__)


def test_a_module_named_otherwise_is_still_found(monkeypatch):
    code.clear_version_cache()
    monkeypatch.setattr(code, "_distributions", lambda: {"yaml": ["PyYAML"]})
    monkeypatch.setattr(code, "_NAMED_OTHERWISE", {})
    import yaml

    assert code.package_version(yaml, "patch") == ("PyYAML", metadata.version("PyYAML"))
    monkeypatch.undo()
    code.clear_version_cache()


def test_the_scan_finds_what_importlib_finds():
    """The scan reads each distribution's files as text; it finds the same distributions
    for every top-level module as ``importlib.metadata.packages_distributions()``."""
    code.clear_version_cache()
    ours = code._distributions()
    theirs = metadata.packages_distributions()
    assert ours.keys() == theirs.keys()
    assert {top: sorted(names) for top, names in ours.items()} == {
        top: sorted(names) for top, names in theirs.items()
    }
    assert ours["pylab"] == ["matplotlib"]
