"""Wheel build hook: ship the prebuilt JupyterLab extension, so ``pip install hitnb`` is all
a user does.

The extension is built from the committed lockfile (``npm ci``) when it has not been built
yet; editable installs skip it (``make labextension`` links the development build instead).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

BUILT = Path("hitnb") / "labextension"
INSTALLED = "share/jupyter/labextensions/hitnb-labextension"


class LabextensionBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        root = Path(self.root)
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
