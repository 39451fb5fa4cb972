"""What the store keeps of a run that read or changed more than its arguments and names.

Most runs store just their result (a function's return value, a cell's record). A run that
consumed ambient state (a global random stream) or changed it (a library option, the
environment), or read or wrote data files, is stored as a :class:`RunRecord`: the result,
the reads a hit must find still true, and the effects a hit applies again
(:mod:`hitnb.core.ambient`, :mod:`hitnb.core.files`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hitnb.core import ambient, environment, files, warning_filters
from hitnb.core.ambient import AmbientEffect, AmbientRead
from hitnb.core.costs import Rerun
from hitnb.core.files import FileRead, FileWrite
from hitnb.core.returned import Returned
from hitnb.core.unstorable import Unstorable
from hitnb.core.warning_filters import Raised
from hitnb.errors import HitnbError


@dataclass(frozen=True)
class CellStart:
    """What a cell's stored run is checked against, and a miss starts from: the settings
    and warnings filters as the cell started. They are taken before its stored record is
    loaded, since loading imports the modules its values need, and a module may set an
    option or add warnings filters as it is imported (statsmodels makes its warnings
    "always" shown): taken after, a cell whose stored value needed that module found them
    changed in every session after the first."""

    settings: ambient.Settings
    filters: warning_filters.Filters

    @classmethod
    def now(cls) -> CellStart:
        return cls(ambient.settings_now(), warning_filters.now())


@dataclass
class RunRecord:
    """A stored result with the reads it depends on and the effects it had."""

    result: Any
    reads: list[AmbientRead] = field(default_factory=list)
    effects: list[AmbientEffect] = field(default_factory=list)
    files: list[FileRead] = field(default_factory=list)
    written: list[FileWrite] = field(default_factory=list)
    states: dict[str, Any] = field(default_factory=dict)
    """Random generators the run advanced (a function's argument or global), as it left
    them: the host puts them there again (:mod:`hitnb.core.generators`)."""
    environment: environment.Reads = field(default_factory=dict)
    """The environment variables the run read (:mod:`hitnb.core.environment`)."""
    warnings: list[Raised] = field(default_factory=list)
    """The warnings the run raised, and what the filters did with each
    (:mod:`hitnb.core.warning_filters`)."""

    def __setstate__(self, data: dict[str, Any]) -> None:
        # records stored before ``states``, ``environment`` or ``warnings``
        self.__dict__.update({"states": {}, "environment": {}, "warnings": [], **data})

    def unmet(self, start: CellStart | None = None) -> str | None:
        """Why this run's reads do not hold here and now, or None when they all do (a
        cell's settings and warnings filters as ``start`` has them)."""
        return (
            ambient.unmet(self.reads, start.settings if start else None)
            or environment.unmet(self.environment)
            or warning_filters.unmet(self.warnings, start.filters if start else None)
            or files.unmet(self.files)
        )

    def pass_up(self) -> None:
        """Served inside another run (a memoized call in a cell): what this run read is
        the other run's input too."""
        files.pass_up(self.files)
        environment.pass_up(self.environment)
        warning_filters.pass_up(self.warnings)

    def apply(self) -> None:
        """Leave the process and the files as the run left them."""
        ambient.apply(self.effects)
        files.put_back(self.written)


def result_of(stored: Any) -> Any:
    """The result inside whatever the store kept for a run (for loading by key and export,
    where no hit is being checked). A run stored as a :class:`~hitnb.core.costs.Rerun` has
    none, nor does one whose outputs could not be stored: a :class:`~hitnb.errors.HitnbError`
    says so."""
    result = stored.result if isinstance(stored, RunRecord) else stored
    if isinstance(result, Rerun):
        raise HitnbError(
            f"this run's outputs were not stored: computing them is cheaper than storing and "
            f"loading them ({result.why()}); run the cell again to have them"
        )
    if isinstance(result, Unstorable):
        raise HitnbError(f"this run's outputs were not stored: {result.note}")
    if isinstance(result, Returned):
        return result.value
    return result
