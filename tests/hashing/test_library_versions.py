"""The version of the library behind a module, found without scanning every installed
distribution when its name says which it is (the scan took 0.2 to 0.5 s, paid by the first
cell of every kernel importing scikit-learn, PyYAML, Pillow or python-dateutil)."""

from __future__ import annotations

from importlib import metadata

import pytest

from hitnb.hashing import code


@pytest.mark.parametrize(
    ("module", "distribution"),
    [("numpy", "numpy"), ("sklearn", "scikit-learn"), ("yaml", "PyYAML"),
     ("dateutil", "python-dateutil"), ("pylab", "matplotlib")],
)  # fmt: skip
def test_found_by_name_as_the_scan_finds_it(monkeypatch, module: str, distribution: str):
    pytest.importorskip(module)
    scanned = code._distributions().get(module)
    assert scanned is not None and scanned[0].lower() == distribution.lower()

    def no_scan() -> None:
        raise AssertionError("every installed distribution was scanned")

    monkeypatch.setattr(code, "_distributions", no_scan)
    versions = code.library_versions([module], "patch")
    assert versions == {scanned[0]: metadata.version(scanned[0])}
