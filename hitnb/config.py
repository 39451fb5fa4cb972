"""Settings: where the store lives and how caching behaves by default.

Precedence, highest first:

1. ``hitnb.configure(...)`` in the running process;
2. environment variables ``HITNB_STORE``, ``HITNB_MODE``, ``HITNB_QUIET``;
3. a ``[tool.hitnb]`` table in the project's ``pyproject.toml``;
4. defaults.

The default store is a ``.hitnb/`` folder at the project root, found by walking
up from the working directory to the first folder that has ``.hitnb/``,
``pyproject.toml``, ``setup.py`` or ``.git``; outside any project it is the
user cache folder (``~/.cache/hitnb`` on Linux). Notebooks usually run with the
notebook's folder as working directory, so every notebook of a project shares
one store without any configuration.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, cast, get_args

from hitnb.errors import ConfigError

Mode = Literal["on", "off", "recompute", "read-only"]
MODES: tuple[str, ...] = get_args(Mode)
Sensitivity = Literal["major", "minor", "patch"]
SENSITIVITIES: tuple[str, ...] = get_args(Sensitivity)

_PROJECT_MARKERS = ("pyproject.toml", "setup.py", ".git")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class Settings:
    """The settings in force; read them with :func:`settings`."""

    store: str | None = None
    """Store location: a folder path. ``None`` means the default described above."""
    mode: Mode = "on"
    """Default cache mode for every memoized function (see :func:`hitnb.mode`)."""
    quiet: bool = False
    """Silence the one-line notes hitnb prints in notebooks."""
    version_sensitivity: Sensitivity = "minor"
    """Which part of an installed package's version is part of the key of code that uses it:
    ``major`` (2), ``minor`` (2.4, the default) or ``patch`` (2.4.6)."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Settings from ``[tool.hitnb]`` that this version does not know, kept for newer code."""


def check_mode(mode: str) -> Mode:
    """Return ``mode`` if it is a cache mode, else raise a :class:`ConfigError` listing them."""
    if mode not in MODES:
        raise ConfigError(f"unknown cache mode {mode!r}; use one of {', '.join(map(repr, MODES))}")
    return cast(Mode, mode)


def check_sensitivity(value: str) -> Sensitivity:
    """Return ``value`` if it is a version sensitivity, else raise a :class:`ConfigError`."""
    if value not in SENSITIVITIES:
        raise ConfigError(
            f"unknown version sensitivity {value!r}; use one of "
            f"{', '.join(map(repr, SENSITIVITIES))}"
        )
    return cast(Sensitivity, value)


def _parse_bool(name: str, text: str) -> bool:
    low = text.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ConfigError(f"{name}={text!r} is not a boolean; use 1/0, true/false or yes/no")


def find_project_root(start: Path) -> tuple[Path | None, Path | None]:
    """Walk up from ``start``; return (folder holding an existing ``.hitnb/``, project root)."""
    for folder in (start, *start.parents):
        if (folder / ".hitnb").is_dir():
            return folder, folder
        if any((folder / marker).exists() for marker in _PROJECT_MARKERS):
            return None, folder
    return None, None


def _pyproject_table(root: Path | None) -> dict[str, Any]:
    if root is None or not (root / "pyproject.toml").is_file():
        return {}
    import tomllib

    try:
        with (root / "pyproject.toml").open("rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {root / 'pyproject.toml'}: {exc}") from exc
    table = data.get("tool", {}).get("hitnb", {})
    if not isinstance(table, dict):
        raise ConfigError(f"[tool.hitnb] in {root / 'pyproject.toml'} must be a table")
    return table


def _from_table(table: dict[str, Any], root: Path) -> dict[str, Any]:
    known = {f.name for f in fields(Settings)} - {"extra"}
    out: dict[str, Any] = {k: v for k, v in table.items() if k in known}
    out["extra"] = {k: v for k, v in table.items() if k not in known}
    if "store" in out:
        store = str(out["store"])
        out["store"] = store if "://" in store else str((root / store).resolve())
    return out


def _from_env() -> dict[str, Any]:
    out: dict[str, Any] = {}
    if store := os.environ.get("HITNB_STORE"):
        out["store"] = store
    if mode := os.environ.get("HITNB_MODE"):
        out["mode"] = mode
    if (quiet := os.environ.get("HITNB_QUIET")) is not None:
        out["quiet"] = _parse_bool("HITNB_QUIET", quiet)
    if sensitivity := os.environ.get("HITNB_VERSION_SENSITIVITY"):
        out["version_sensitivity"] = sensitivity
    return out


_ENV_NAMES = ("HITNB_STORE", "HITNB_MODE", "HITNB_QUIET", "HITNB_VERSION_SENSITIVITY")
_ENV_KEYS = (
    tuple(os.environ.encodekey(n) for n in _ENV_NAMES) if hasattr(os.environ, "encodekey") else ()
)


def _env_values() -> tuple[Any, ...]:
    """The raw values of hitnb's environment variables, read on every call.

    ``os.environ.get`` raises and catches a KeyError for each unset variable (half a
    microsecond each, a tenth of a cache hit), so the encoded mapping behind
    ``os.environ`` is read directly where CPython has it; it is always up to date.
    """
    data = getattr(os.environ, "_data", None)
    if data is not None and _ENV_KEYS:
        return tuple(map(data.get, _ENV_KEYS))
    return tuple(os.environ.get(n) for n in _ENV_NAMES)


class _Config:
    """Holds the values given to :func:`configure` and caches the resolved settings."""

    def __init__(self) -> None:
        self.overrides: dict[str, Any] = {}
        self.generation = 0
        self._cache_key: tuple[Any, ...] | None = None
        self._cached: tuple[Settings, Path] | None = None

    def resolve(self) -> tuple[Settings, Path]:
        """Return the settings in force and the store path they select."""
        cache_key = (self.generation, *_env_values(), os.getcwd())
        if self._cached is not None and cache_key == self._cache_key:
            return self._cached
        hitnb_home, root = find_project_root(Path.cwd())
        values: dict[str, Any] = {}
        if root is not None:
            values.update(_from_table(_pyproject_table(root), root))
        values.update(_from_env())
        values.update(self.overrides)
        settings = Settings(**values)
        check_mode(settings.mode)
        check_sensitivity(settings.version_sensitivity)
        if settings.store is not None:
            store_path = Path(settings.store).expanduser()
        elif hitnb_home is not None or root is not None:
            store_path = (hitnb_home or cast(Path, root)) / ".hitnb"
        else:
            import platformdirs

            store_path = Path(platformdirs.user_cache_dir("hitnb"))
        self._cached = (settings, store_path.resolve())
        self._cache_key = cache_key
        return self._cached


_config = _Config()


def configure(
    *,
    store: str | os.PathLike[str] | None = None,
    mode: str | None = None,
    quiet: bool | None = None,
    version_sensitivity: str | None = None,
) -> Settings:
    """Set process-wide settings; they take precedence over environment and pyproject.

    Only the arguments given change. ``hitnb.configure(store="path/to/store")`` points every
    memoized function of this process at another store. Returns the settings now in force.
    """
    if mode is not None:
        check_mode(mode)
        _config.overrides["mode"] = mode
    if store is not None:
        _config.overrides["store"] = os.fspath(store)
    if quiet is not None:
        _config.overrides["quiet"] = bool(quiet)
    if version_sensitivity is not None:
        _config.overrides["version_sensitivity"] = check_sensitivity(version_sensitivity)
    _config.generation += 1
    return settings()


def reset() -> None:
    """Forget everything given to :func:`configure` (used by tests and `%unload_ext`)."""
    _config.overrides.clear()
    _config.generation += 1


def current() -> tuple[Settings, Path]:
    """The settings in force and the store folder they select, resolved once."""
    return _config.resolve()


def settings() -> Settings:
    """The settings in force now."""
    return _config.resolve()[0]


def store_path() -> Path:
    """The folder of the store in force now."""
    return _config.resolve()[1]


__all__ = [
    "MODES",
    "Mode",
    "Settings",
    "check_mode",
    "configure",
    "reset",
    "settings",
    "store_path",
]
