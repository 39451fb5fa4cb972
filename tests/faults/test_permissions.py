"""A store is private at every level: folders 0700, files 0600, lock folders its user's own.

Before: folders were created 0755 (0777 under umask 000) and .gitignore/store.json 0644;
the "writable by others" warning looked at the top folder only (1 of 4 unsafe setups); and
another user who made ``/dev/shm/hitnb-<uid>`` first stalled the victim's first call for
120 s or made every call raise PermissionError.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import pytest

from hitnb.errors import HitnbWarning
from hitnb.store.local import LocalStore

pytestmark = [pytest.mark.slow, pytest.mark.faults]


def filled(root: Path) -> LocalStore:
    store = LocalStore(root)
    store.put("a" * 32, "x" * 40_000, function="f", code="c", args="a", duration=0.0)
    store.put("b" * 32, "small", function="f", code="c", args="b", duration=0.0)
    return store


@pytest.mark.parametrize("umask", [0o022, 0o000, 0o077], ids=["022", "000", "077"])
def test_every_folder_is_0700_and_every_file_0600(tmp_path: Path, umask: int):
    old = os.umask(umask)
    try:
        root = tmp_path / "made" / "by" / "hitnb" / "store"
        filled(root).close()
    finally:
        os.umask(old)
    modes = {
        str(p.relative_to(tmp_path)): stat.S_IMODE(p.stat().st_mode)
        for p in [tmp_path / "made", tmp_path / "made" / "by", *(tmp_path / "made").rglob("*")]
    }
    folders = {p: m for p, m in modes.items() if (tmp_path / p).is_dir()}
    files = {p: m for p, m in modes.items() if not (tmp_path / p).is_dir()}
    assert set(folders.values()) == {0o700}, folders
    assert set(files.values()) == {0o600}, files
    assert len(files) >= 5  # .gitignore, store.json, index, a manifest, a blob


LEVELS = ["", "entries", "objects", "tmp", "entries/??", "objects/??", "index.sqlite",
          "store.json"]  # fmt: skip


@pytest.mark.parametrize("level", LEVELS)
def test_the_unsafe_store_warning_checks_every_level(tmp_path: Path, level: str):
    root = tmp_path / "store"
    store = filled(root)
    store.blobs.tmp.mkdir(exist_ok=True)
    store.close()
    targets = list(root.glob(level)) if level else [root]
    assert targets
    for target in targets:
        target.chmod(0o777 if target.is_dir() else 0o666)
    with pytest.warns(HitnbWarning, match="can be changed by other users"):
        LocalStore(root)


@pytest.mark.skipif(os.getuid() != 0, reason="giving a file to another user needs root")
def test_a_level_owned_by_another_user_is_warned_about(tmp_path: Path):
    root = tmp_path / "store"
    filled(root).close()
    os.chown(root / "entries", 65534, 65534)
    with pytest.warns(HitnbWarning, match="entries is owned by user 65534"):
        LocalStore(root)


def test_a_private_store_gives_no_warning(tmp_path: Path):
    filled(tmp_path / "store").close()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LocalStore(tmp_path / "store")


VICTIM = """
import time, warnings
import hitnb
warnings.simplefilter("always")
start = time.monotonic()

@hitnb.memo
def square(x):
    return x * x

print(square(3), round(time.monotonic() - start, 1), flush=True)
"""


@pytest.mark.skipif(os.getuid() != 0 or shutil.which("setpriv") is None,
                    reason="needs root to act as two users")  # fmt: skip
@pytest.mark.parametrize("mode", [0o700, 0o777])
def test_a_lock_folder_made_by_another_user_is_refused(mode: int):
    """Another user (root here) makes the victim's /dev/shm/hitnb-<uid> first; with 0777
    they also hold the victim's index lock. The victim's call returns at once, warning."""
    import xxhash

    victim = 65534
    base = Path(tempfile.mkdtemp(prefix="hitnb-victim-"))
    base.chmod(0o777)
    shm = Path(f"/dev/shm/hitnb-{victim}")
    shutil.rmtree(shm, ignore_errors=True)
    shm.mkdir(mode=0o700)
    shm.chmod(mode)
    held = None
    try:
        if mode == 0o777:
            store_id = xxhash.xxh3_64_hexdigest(str((base / "store").resolve()).encode())
            folder = shm / store_id / "in"
            folder.mkdir(parents=True)
            held = os.open(folder / "index-open.lock", os.O_RDWR | os.O_CREAT, 0o666)
            fcntl.flock(held, fcntl.LOCK_EX)
            for path in (shm / store_id, folder):
                path.chmod(0o777)
        env = {**os.environ, "HITNB_STORE": str(base / "store"), "HOME": str(base),
               "HITNB_CONFIG": str(base / "c.toml")}  # fmt: skip
        start = time.monotonic()
        done = subprocess.run(
            ["setpriv", f"--reuid={victim}", f"--regid={victim}", "--clear-groups",
             sys.executable, "-c", VICTIM],
            env=env, capture_output=True, text=True, cwd=base, timeout=150,
        )  # fmt: skip
        elapsed = time.monotonic() - start
        assert done.returncode == 0, done.stderr
        assert done.stdout.split()[0] == "9"
        assert elapsed < 20, elapsed
        assert f"{shm} is refused: it is owned by user 0" in done.stderr
    finally:
        if held is not None:
            os.close(held)
        shutil.rmtree(shm, ignore_errors=True)
        shutil.rmtree(base, ignore_errors=True)
