"""A library module for tests of what runs change in library classes: written into a
``site-packages`` folder, it is installed code as hitnb sees it."""

from __future__ import annotations

from pathlib import Path

NUMBERED = '''
class System:
    """Numbered as python-control numbers its systems (sys[0], sys[1], ...)."""

    made = 0

    def __init__(self):
        self.name = f"sys[{System.made}]"
        System.made += 1


def register():
    """Gives System a method, as tqdm.pandas() gives DataFrame its progress_apply."""
    System.describe = lambda self: "described " + self.name
'''


def install_numbered(folder: Path, name: str) -> Path:
    """Write :data:`NUMBERED` as module ``name`` in ``folder/site-packages``; that folder."""
    library = folder / "site-packages"
    library.mkdir(exist_ok=True)
    (library / f"{name}.py").write_text(NUMBERED)
    return library
