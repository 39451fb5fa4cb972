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
        raise AssertionError("packages_distributions() scans every installed distribution")

    code.clear_version_cache()
    monkeypatch.setattr(metadata, "packages_distributions", scan)
    yield
    code.clear_version_cache()


def test_a_module_named_like_its_distribution_needs_no_scan(no_scan):
    name, version = code.package_version(numpy, "patch")
    assert (name, version) == ("numpy", numpy.__version__)


def test_a_module_named_otherwise_is_still_found(monkeypatch):
    code.clear_version_cache()
    monkeypatch.setattr(metadata, "packages_distributions", lambda: {"yaml": ["PyYAML"]})
    import yaml

    assert code.package_version(yaml, "patch") == ("PyYAML", metadata.version("PyYAML"))
    code.clear_version_cache()
