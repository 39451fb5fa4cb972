"""Fetch the corpus: statsmodels' example notebooks from its source archive on the package index.

The archive is found through the index's JSON simple API (PEP 691), checked against the sha256
the index publishes, and unpacked into a cache folder outside the repository, so the notebooks
are never committed. ``pip download`` is not used: for a source archive it builds metadata.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from pathlib import Path

PROJECT = "statsmodels"
VERSION = "0.15.0"
ARCHIVE = f"{PROJECT}-{VERSION}.tar.gz"
NOTEBOOKS_IN_ARCHIVE = f"{PROJECT}-{VERSION}/examples/notebooks/"
CACHE_ENV = "HITNB_CORPUS_CACHE"
JSON_API = "application/vnd.pypi.simple.v1+json"


class FetchError(RuntimeError):
    """The archive could not be found, downloaded or verified; the message says how to fix it."""


def cache_dir() -> Path:
    """Where archives and notebooks are kept: $HITNB_CORPUS_CACHE, else the user cache folder."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("hitnb")) / "corpus"


def index_url() -> str:
    """The package index pip uses here: PIP_INDEX_URL, pip's configuration, else pip's default."""
    url = os.environ.get("PIP_INDEX_URL", "").strip()
    if not url:
        try:
            out = subprocess.run(
                [sys.executable, "-m", "pip", "config", "get", "global.index-url"],
                capture_output=True,
                text=True,
                timeout=60,
            )
            url = out.stdout.strip() if out.returncode == 0 else ""
        except (OSError, subprocess.TimeoutExpired):
            url = ""
    if not url:
        from pip._internal.models.index import PyPI

        url = PyPI.simple_url
    return url.rstrip("/")


def _archive_entry(index: str) -> tuple[str, str]:
    """(download URL, sha256) of the source archive, as the index's JSON simple API lists it."""
    page = f"{index}/{PROJECT}/"
    request = urllib.request.Request(page, headers={"Accept": JSON_API})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            listing = json.load(response)
    except (OSError, ValueError) as exc:
        raise FetchError(
            f"could not read the project listing {page} ({exc}); set PIP_INDEX_URL to an index "
            f"that serves the JSON simple API, or put the notebooks in {cache_dir()} yourself"
        ) from exc
    for entry in listing.get("files", []):
        if entry.get("filename") == ARCHIVE:
            digest = entry.get("hashes", {}).get("sha256")
            if not digest:
                raise FetchError(f"the index lists {ARCHIVE} without a sha256; cannot verify it")
            url = urllib.request.urljoin(page, entry["url"])
            return url, digest
    raise FetchError(f"the index at {index} does not list {ARCHIVE}")


def _download(url: str, digest: str, target: Path) -> None:
    sha = hashlib.sha256()
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=".download-")
    os.close(handle)
    partial = Path(name)
    try:
        with urllib.request.urlopen(url, timeout=300) as response, open(partial, "wb") as out:
            while chunk := response.read(1 << 20):
                sha.update(chunk)
                out.write(chunk)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise FetchError(f"downloading {ARCHIVE} failed ({exc}); try again") from exc
    if sha.hexdigest() != digest:
        partial.unlink(missing_ok=True)
        raise FetchError(
            f"{ARCHIVE} does not match the sha256 the index publishes "
            f"(got {sha.hexdigest()}, expected {digest}); nothing was kept, try again"
        )
    partial.replace(target)


def notebooks_dir() -> Path:
    """The folder of the corpus notebooks, downloading and unpacking the archive when missing."""
    root = cache_dir() / f"{PROJECT}-{VERSION}"
    folder = root / "notebooks"
    done = root / ".complete"
    if done.exists():
        return folder
    root.mkdir(parents=True, exist_ok=True)
    archive = root / ARCHIVE
    if not archive.exists():
        url, digest = _archive_entry(index_url())
        _download(url, digest, archive)
    if done.exists():  # another process unpacked it meanwhile
        return folder
    staging = Path(tempfile.mkdtemp(dir=root, prefix="unpack-"))
    try:
        try:
            with tarfile.open(archive, "r:gz") as tar:
                members = [
                    m
                    for m in tar.getmembers()
                    if m.name.startswith(NOTEBOOKS_IN_ARCHIVE) and (m.isfile() or m.isdir())
                ]
                tar.extractall(staging, members=members, filter="data")
        except (tarfile.TarError, OSError, EOFError) as exc:
            archive.unlink(missing_ok=True)
            raise FetchError(
                f"{archive} could not be unpacked ({exc}); it was removed, run again to "
                "download it anew"
            ) from exc
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            (staging / NOTEBOOKS_IN_ARCHIVE).rename(folder)
            done.touch()
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def notebook_paths() -> list[Path]:
    """Every notebook of the corpus, by name."""
    return sorted(notebooks_dir().glob("*.ipynb"))
