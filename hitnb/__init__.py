"""hitnb: persistent, code-aware memoization and experiments for notebooks and Python.

>>> from hitnb import memo
>>> @memo
... def slow_square(x):
...     return x * x

Importing hitnb is cheap: it loads neither IPython, numpy nor pandas.
"""

from hitnb._version import __version__
from hitnb.config import Settings, configure, settings
from hitnb.core.ambient import StateProvider, register_state, unregister_state
from hitnb.core.memo import MemoizedFunction, experiment, experiments, load, memo, runs
from hitnb.core.metrics import log
from hitnb.core.modes import mode
from hitnb.core.runs import Lazy, Run
from hitnb.errors import (
    CodecError,
    ConfigError,
    CorruptEntryError,
    CorruptEntryWarning,
    HitnbError,
    HitnbWarning,
    StoreWriteWarning,
    UnhashableArgumentError,
    UnknownKeyError,
)
from hitnb.hashing.values import hash_value, register_hasher
from hitnb.store.codecs import BlobData, Codec, register_codec, unregister_codec


def export(keys: str | list[str], path: str, *, store: str | None = None) -> object:
    """Write stored runs (keys or key prefixes) as a notebook at ``path``; return its path.

    Several runs of one experiment become one notebook that ends with a comparison.
    """
    from hitnb.exporting.notebook import export as write

    return write(keys, path, store=store)


def table(function: object = None, **options: object) -> object:
    """The inline experiment table (ipywidgets) of ``function`` (a memoized function or its
    name), or of every experiment: sortable, filterable, paged, with a detail view and
    comparison plots. See :mod:`hitnb.widgets.table`; in a notebook, ``%experiments NAME``
    opens the same table."""
    from hitnb.widgets.table import open_table

    return open_table(function, **options)  # type: ignore[arg-type]


def load_ipython_extension(shell: object) -> None:
    """``%load_ext hitnb``: register the ``%%memo`` and ``%hitnb`` magics."""
    from hitnb.ipython import load_ipython_extension as load

    load(shell)


def unload_ipython_extension(shell: object) -> None:
    """``%unload_ext hitnb``: remove everything the extension added."""
    from hitnb.ipython import unload_ipython_extension as unload

    unload(shell)


__all__ = [
    "BlobData",
    "Codec",
    "CodecError",
    "ConfigError",
    "CorruptEntryError",
    "CorruptEntryWarning",
    "HitnbError",
    "HitnbWarning",
    "Lazy",
    "MemoizedFunction",
    "Run",
    "Settings",
    "StateProvider",
    "StoreWriteWarning",
    "UnhashableArgumentError",
    "UnknownKeyError",
    "__version__",
    "configure",
    "experiment",
    "experiments",
    "export",
    "hash_value",
    "load",
    "log",
    "memo",
    "mode",
    "register_codec",
    "register_hasher",
    "register_state",
    "runs",
    "settings",
    "table",
    "unregister_codec",
    "unregister_state",
]
