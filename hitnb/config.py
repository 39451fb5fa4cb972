"""Settings: where the store lives and how caching behaves.

One place, four sources, in this order of precedence (highest first):

1. ``hitnb.configure(...)`` in the running process;
2. environment variables: ``HITNB_`` and the setting's name in capitals
   (``HITNB_STORE``, ``HITNB_MAX_SIZE``, ...);
3. a ``[tool.hitnb]`` table in the project's ``pyproject.toml``;
4. the user config file, ``~/.config/hitnb/config.toml`` on Linux (another file with
   ``HITNB_CONFIG``), which ``hitnb config set`` writes;

then the defaults. The default store is a ``.hitnb/`` folder at the project root, found
by walking up from the working directory to the first folder that has ``.hitnb/``,
``pyproject.toml``, ``setup.py`` or ``.git``; outside any project it is the user cache
folder (``~/.cache/hitnb`` on Linux). Notebooks usually run with the notebook's folder
as working directory, so every notebook of a project shares one store.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast, get_args

from hitnb.errors import ConfigError

Mode = Literal["on", "off", "recompute", "read-only"]
MODES: tuple[str, ...] = get_args(Mode)
Sensitivity = Literal["major", "minor", "patch"]
SENSITIVITIES: tuple[str, ...] = get_args(Sensitivity)

_PROJECT_MARKERS = ("pyproject.toml", "setup.py", ".git")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_SIZE_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
               "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}  # fmt: skip


@dataclass(frozen=True)
class Settings:
    """The settings in force; read them with :func:`settings`."""

    store: str | None = None
    """Store folder. ``None`` means the default described in this module's docstring."""
    mode: Mode = "on"
    """Default cache mode for every memoized function and cell (see :func:`hitnb.mode`)."""
    quiet: bool = False
    """Silence the badge and the one-line notes hitnb prints in notebooks."""
    version_sensitivity: Sensitivity = "minor"
    """Which part of an installed package's version is part of the key of code that uses it:
    ``major`` (2), ``minor`` (2.4, the default) or ``patch`` (2.4.6)."""
    max_size: int | None = None
    """Bytes the store may hold (``"20GB"``); least recently used entries that are not
    experiments are evicted after writes that pass it. ``None``: no limit."""
    wait: bool = True
    """Wait for a call that another process or thread is computing, instead of repeating it."""
    lock_timeout: float = 3600.0
    """Seconds to wait for such a call before computing it anyway (with a warning)."""
    cache: str | None = None
    """With a shared ``store`` (a URL), the local folder that caches it (default: a folder
    per URL in the user cache folder)."""
    signing_key: str | None = None
    """A secret shared by a team: entries written to a shared store are signed with it, and
    unsigned or changed ones are refused when read. Keep it out of files others can read."""
    keep_inputs: bool = True
    """Keep the arguments and globals of a computed call that have no exact literal form
    (arrays, frames, objects) in the store, each distinct value once, so the run can be
    exported as a notebook that repeats it. Off: exports leave such inputs to the reader."""
    keep_inputs_max: int | None = 8 * 1024 * 1024
    """Inputs taking more memory than this (arrays, frames: ``"8MB"``) are not kept: storing
    a copy of a big input on every miss costs more than the run it serves (a 10-million-row
    Series read by a cell that takes a millisecond). ``None``: keep inputs of any size."""
    exclude_files: tuple[str, ...] = ()
    """Files a run reads or writes that never count: folders (``data/scratch``) or glob
    patterns (``*.log``), besides the libraries, caches and system folders hitnb leaves out."""
    stat_only_above: int | None = None
    """Files larger than this (``"2GB"``) are compared by size and modification time only:
    no content digest, so a touch of such a file recomputes. ``None``: always by content."""
    auto: bool = False
    """Memoize every code cell of a notebook session, as if each started with ``%%memo``
    (the IPython extension must be loaded; ``%hitnb auto on|off`` switches it per session)."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Settings from files that this version does not know, kept for newer code."""


# -- parsing and checking --------------------------------------------------------------------
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


def parse_size(text: str | int) -> int:
    """``"20GB"``, ``"512 MiB"`` or a number of bytes, as bytes."""
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", str(text))
    unit = match.group(2).lower() if match else ""
    if not match or unit not in _SIZE_UNITS:
        raise ConfigError(f"size {text!r} is not understood; write e.g. 500MB, 20GB or 1.5GiB")
    return int(float(match.group(1)) * _SIZE_UNITS[unit])


def _parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    low = str(value).strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ConfigError(f"{value!r} is not a boolean; use true/false, 1/0 or yes/no")


def _parse_float(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{value!r} is not a number of seconds") from None
    if number < 0:
        raise ConfigError(f"{value!r} must not be negative")
    return number


def _parse_patterns(value: Any) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else value
    try:
        return tuple(str(os.fspath(item)).strip() for item in items if str(item).strip())
    except TypeError:
        raise ConfigError(f"{value!r} is not a list of paths or patterns (a,b or [a, b])") from None


def _parse_optional_size(value: Any) -> int | None:
    return None if value in (None, "", "none", "None") else parse_size(value)


_PARSERS: dict[str, Callable[[Any], Any]] = {
    "store": lambda v: None if v in (None, "") else os.fspath(v),
    "mode": check_mode,
    "quiet": _parse_bool,
    "version_sensitivity": check_sensitivity,
    "max_size": _parse_optional_size,
    "wait": _parse_bool,
    "lock_timeout": _parse_float,
    "keep_inputs": _parse_bool,
    "cache": lambda v: None if v in (None, "") else os.fspath(v),
    "signing_key": lambda v: None if v in (None, "") else str(v),
    "exclude_files": _parse_patterns,
    "stat_only_above": _parse_optional_size,
    "keep_inputs_max": _parse_optional_size,
    "auto": _parse_bool,
}
NAMES: tuple[str, ...] = tuple(_PARSERS)
"""Every setting's name."""


def parse(name: str, value: Any, source: str) -> Any:
    """Check one setting's value; a ConfigError names the setting and where it came from."""
    if name not in _PARSERS:
        raise ConfigError(f"unknown setting {name!r} in {source}; settings: {', '.join(NAMES)}")
    try:
        return _PARSERS[name](value)
    except ConfigError as exc:
        raise ConfigError(f"{name} in {source}: {exc}") from None


def env_name(name: str) -> str:
    return f"HITNB_{name.upper()}"


# -- sources --------------------------------------------------------------------------------
def find_project_root(start: Path) -> tuple[Path | None, Path | None]:
    """Walk up from ``start``; return (folder holding an existing ``.hitnb/``, project root)."""
    for folder in (start, *start.parents):
        if (folder / ".hitnb").is_dir():
            return folder, folder
        if any((folder / marker).exists() for marker in _PROJECT_MARKERS):
            return None, folder
    return None, None


def user_config_path() -> Path:
    """The user config file (``HITNB_CONFIG`` names another)."""
    named = os.environ.get("HITNB_CONFIG")
    if named:
        return Path(named).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("hitnb")) / "config.toml"


def _read_toml(path: Path, table: tuple[str, ...]) -> dict[str, Any]:
    import tomllib

    try:
        with path.open("rb") as fh:
            data: Any = tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    for part in table:
        data = data.get(part, {})
    if not isinstance(data, dict):
        raise ConfigError(f"[{'.'.join(table)}] in {path} must be a table")
    return data


def is_url(store: str) -> bool:
    """Whether a ``store`` setting names a shared store (``s3://...``) rather than a folder."""
    return "://" in store and not store.startswith("file://")


def _cache_for(url: str) -> Path:
    import hashlib

    import platformdirs

    name = hashlib.sha256(url.encode()).hexdigest()[:16]
    return Path(platformdirs.user_cache_dir("hitnb")) / "shared" / name


def _from_file(values: dict[str, Any], source: str, base: Path) -> dict[str, Any]:
    out: dict[str, Any] = {"extra": {}}
    for name, value in values.items():
        if name not in _PARSERS:
            out["extra"][name] = value
            continue
        parsed = parse(name, value, source)
        if name in ("store", "cache") and parsed is not None and "://" not in parsed:
            parsed = str((base / Path(parsed).expanduser()).resolve())
        out[name] = parsed
    return out


def _from_env() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in NAMES:
        value = os.environ.get(env_name(name))
        if value is not None and value != "":
            out[name] = parse(name, value, f"the environment variable {env_name(name)}")
    return out


_ENV_NAMES = (*(env_name(n) for n in NAMES), "HITNB_CONFIG")
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
        if data.keys().isdisjoint(_ENV_KEYS):  # none set, the usual case: half the time
            return _NONE_SET
        return tuple(map(data.get, _ENV_KEYS))
    return tuple(os.environ.get(n) for n in _ENV_NAMES)


_NONE_SET = (None,) * len(_ENV_NAMES)


@dataclass(frozen=True)
class Resolved:
    """The settings in force, the store folder they select, and where each value came from."""

    settings: Settings
    store_path: Path
    sources: dict[str, str]
    remote: str | None = None
    """The shared store's URL when ``store`` names one; ``store_path`` then caches it."""


class _Config:
    """Holds the values given to :func:`configure` and caches the resolved settings."""

    def __init__(self) -> None:
        self.overrides: dict[str, Any] = {}
        self.generation = 0
        self._cache_key: tuple[int, tuple[Any, ...], str] | None = None
        self._cached: Resolved | None = None

    def resolve(self) -> Resolved:
        """The settings in force: the cached ones while the ``configure()`` generation, the
        environment variables and the working folder are what they were when resolved."""
        cache_key = (self.generation, _env_values(), os.getcwd())
        if self._cached is not None and cache_key == self._cache_key:
            return self._cached
        hitnb_home, root = find_project_root(Path.cwd())
        layers: list[tuple[str, dict[str, Any]]] = []
        user_file = user_config_path()
        user_values = _read_toml(user_file, ())
        layers.append((str(user_file), _from_file(user_values, str(user_file), user_file.parent)))
        if root is not None:
            project_file = root / "pyproject.toml"
            table = _read_toml(project_file, ("tool", "hitnb"))
            project = _from_file(table, str(project_file), root)
            layers.append((f"{project_file} [tool.hitnb]", project))
        layers.append(("the environment", _from_env()))
        layers.append(("hitnb.configure()", dict(self.overrides)))
        values: dict[str, Any] = {}
        sources = dict.fromkeys(NAMES, "default")
        extra: dict[str, Any] = {}
        for source, layer in layers:
            extra.update(layer.pop("extra", {}))
            values.update(layer)
            sources.update(dict.fromkeys(layer, source))
        settings = Settings(**values, extra=extra)
        remote = None
        if settings.store is not None and is_url(settings.store):
            remote = settings.store
            store_path = Path(settings.cache).expanduser() if settings.cache else _cache_for(remote)
        elif settings.store is not None:
            store_path = Path(settings.store.removeprefix("file://")).expanduser()
        elif hitnb_home is not None or root is not None:
            store_path = (hitnb_home or cast(Path, root)) / ".hitnb"
            sources["store"] = f"default: the project at {root}"
        else:
            import platformdirs

            store_path = Path(platformdirs.user_cache_dir("hitnb"))
            sources["store"] = "default: the user cache folder"
        self._cached = Resolved(settings, store_path.resolve(), sources, remote)
        self._cache_key = cache_key
        return self._cached


_config = _Config()


def configure(**values: Any) -> Settings:
    """Set process-wide settings; they take precedence over environment and files.

    Only the settings given change, e.g. ``hitnb.configure(store="path/to/store")`` or
    ``hitnb.configure(max_size="20GB", quiet=True)``. Returns the settings now in force.
    """
    parsed = {name: parse(name, value, "hitnb.configure()") for name, value in values.items()}
    _config.overrides.update(parsed)
    _config.generation += 1
    return settings()


def reset() -> None:
    """Forget everything given to :func:`configure` (used by tests and `%unload_ext`)."""
    _config.overrides.clear()
    _config.generation += 1


def resolved() -> Resolved:
    """The settings in force, resolved once per change (the same object until one changes:
    callers may compare it by identity to know nothing changed)."""
    return _config.resolve()


def current() -> tuple[Settings, Path]:
    """The settings in force and the store folder they select, resolved once."""
    resolved = _config.resolve()
    return resolved.settings, resolved.store_path


def settings() -> Settings:
    """The settings in force now."""
    return _config.resolve().settings


def store_path() -> Path:
    """The folder of the store in force now."""
    return _config.resolve().store_path


def sources() -> dict[str, str]:
    """Where each setting in force came from (``hitnb config list`` shows it)."""
    return dict(_config.resolve().sources)


def write_user_setting(name: str, value: Any) -> Path:
    """Set (or with ``None``, remove) a setting in the user config file; return its path."""
    import tomli_w

    path = user_config_path()
    current_values = _read_toml(path, ())
    if value is None:
        current_values.pop(name, None)
    else:
        parse(name, value, str(path))  # refuse what could not be read back
        current_values[name] = value
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(tomli_w.dumps(current_values))
    _config.generation += 1
    return path


__all__ = [
    "MODES",
    "NAMES",
    "Mode",
    "Sensitivity",
    "Settings",
    "check_mode",
    "configure",
    "current",
    "parse_size",
    "reset",
    "settings",
    "sources",
    "store_path",
    "write_user_setting",
]
