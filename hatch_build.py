"""Build hook: compile the package's two C helpers, and ship the prebuilt JupyterLab
extension, so ``pip install hitnb`` is all a user does.

Each C helper (``hitnb/core/_file_events.c``, the audit hook's filter, and
``hitnb/hashing/_shared.c``, which finds lists held twice in a value; one file each, against
Python's headers) is compiled next to its source, for editable installs and wheels alike;
without a compiler the build says so and goes on, and the package does the same work in
Python (the audit hook slower for every audited event of the process, the same files seen;
the look for shared lists slower in each long list hashed). The JupyterLab extension is
built from the committed lockfile (``npm ci``) when it has not been built yet; editable
installs skip it (``make labextension`` links the development build instead).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

BUILT = Path("hitnb") / "labextension"
INSTALLED = "share/jupyter/labextensions/hitnb-labextension"
HELPERS = {
    Path("hitnb") / "core" / "_file_events.c": "files are observed by a hook written in Python",
    Path("hitnb") / "hashing" / "_shared.c": "long lists are looked at in Python",
}
"""The C helpers, with what the package does without each."""


def compile_helpers(root: Path) -> list[Path]:
    """Compile each C helper beside its source; the extensions built (a line on stderr for
    each one this machine cannot build)."""
    built = (compile_helper(root / source, fallback) for source, fallback in HELPERS.items())
    return [target for target in built if target is not None]


def compile_helper(source: Path, fallback: str) -> Path | None:
    """Compile one C helper beside its source; None (and a line on stderr) when this
    machine cannot."""
    target = source.with_name(source.stem + str(sysconfig.get_config_var("EXT_SUFFIX")))
    part = target.with_name(target.name + ".part")
    link = _link_command()
    if not link or sys.platform == "win32":
        print(f"hitnb: no C compiler configured; {fallback}", file=sys.stderr)
        return None
    command = [
        *shlex.split(link), *shlex.split(str(sysconfig.get_config_var("CCSHARED") or "")),
        "-O2", *shlex.split(os.environ.get("CFLAGS", "")), "-I", sysconfig.get_paths()["include"],
        str(source), "-o", str(part),
    ]  # fmt: skip
    try:
        subprocess.run(command, check=True, capture_output=True, text=True)
        # renamed into place: a kernel running from this folder keeps the file it mapped
        part.replace(target)
    except (OSError, subprocess.CalledProcessError) as exc:
        said = getattr(exc, "stderr", None) or exc
        print(f"hitnb: {source.name} did not compile ({said}); {fallback}", file=sys.stderr)
        return None
    return target


def _link_command() -> str:
    """The command that compiles and links an extension, as Python was built with it, with
    the ``CC`` and ``LDSHARED`` of the environment taking precedence (as setuptools does:
    a Python built elsewhere may name a compiler this machine lacks)."""
    if os.environ.get("LDSHARED"):
        return os.environ["LDSHARED"]
    link = str(sysconfig.get_config_var("LDSHARED") or "")
    built_with = str(sysconfig.get_config_var("CC") or "")
    wanted = os.environ.get("CC")
    if wanted and built_with and link.startswith(built_with):
        link = wanted + link[len(built_with) :]
    return link


class LabextensionBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        root = Path(self.root)
        built = compile_helpers(root)
        if built and version != "editable":
            for target in built:
                build_data["force_include"][str(target)] = str(target.relative_to(root))
            build_data["pure_python"] = False
            build_data["infer_tag"] = True
        if version == "editable":
            return
        if not (root / BUILT / "package.json").exists():
            if shutil.which("npm") is None:
                raise RuntimeError(
                    "building the hitnb wheel needs Node.js and npm for the JupyterLab "
                    "extension (labextension/); install them, or run `make labextension` first"
                )
            source = root / "labextension"
            subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=source, check=True)
            subprocess.run(["npm", "run", "build"], cwd=source, check=True)
        build_data["shared_data"][str(root / BUILT)] = INSTALLED
