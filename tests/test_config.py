"""Where the store lives and which settings win."""

from __future__ import annotations

from pathlib import Path

import pytest

import hitnb
from hitnb import config
from hitnb.errors import ConfigError


@pytest.fixture
def no_env_store(monkeypatch):
    monkeypatch.delenv("HITNB_STORE", raising=False)
    config.reset()


def test_default_store_is_dot_hitnb_at_the_project_root(tmp_path, no_env_store, monkeypatch):
    project = tmp_path / "proj"
    (project / "notebooks" / "deep").mkdir(parents=True)
    (project / "pyproject.toml").write_text("[project]\nname='x'\n")
    monkeypatch.chdir(project / "notebooks" / "deep")
    assert config.store_path() == (project / ".hitnb").resolve()


def test_existing_dot_hitnb_wins_over_markers_above(tmp_path, no_env_store, monkeypatch):
    (tmp_path / ".git").mkdir()
    (tmp_path / "sub" / ".hitnb").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "sub")
    assert config.store_path() == (tmp_path / "sub" / ".hitnb").resolve()


def test_outside_a_project_the_user_cache_dir(tmp_path, no_env_store, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.chdir("/")
    assert config.store_path() == (tmp_path / "cache" / "hitnb").resolve()


def test_precedence_configure_env_pyproject(tmp_path, no_env_store, monkeypatch):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.hitnb]\nstore = "from_pyproject"\nmode = "read-only"\n'
    )
    monkeypatch.chdir(tmp_path)
    assert config.store_path() == (tmp_path / "from_pyproject").resolve()
    assert hitnb.settings().mode == "read-only"
    monkeypatch.setenv("HITNB_STORE", str(tmp_path / "from_env"))
    monkeypatch.setenv("HITNB_MODE", "recompute")
    assert config.store_path() == (tmp_path / "from_env").resolve()
    assert hitnb.settings().mode == "recompute"
    hitnb.configure(store=tmp_path / "from_configure", mode="off")
    assert config.store_path() == (tmp_path / "from_configure").resolve()
    assert hitnb.settings().mode == "off"


def test_bad_settings_say_what_to_use(tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match="unknown cache mode 'fast'"):
        hitnb.configure(mode="fast")
    monkeypatch.setenv("HITNB_QUIET", "maybe")
    with pytest.raises(ConfigError, match="quiet in the environment variable HITNB_QUIET: 'maybe'"):
        hitnb.settings()
    monkeypatch.setenv("HITNB_QUIET", "yes")
    assert hitnb.settings().quiet is True


def test_broken_pyproject_is_reported(tmp_path, no_env_store, monkeypatch):
    (tmp_path / "pyproject.toml").write_text("[tool.hitnb\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"cannot read .*pyproject\.toml"):
        config.store_path()


def test_store_follows_the_working_directory(tmp_path, no_env_store, monkeypatch):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "setup.py").write_text("")
    monkeypatch.chdir(tmp_path / "a")
    first = config.store_path()
    monkeypatch.chdir(tmp_path / "b")
    assert config.store_path() != first
    assert Path(config.store_path()).parent == (tmp_path / "b").resolve()


def test_user_config_file_is_the_lowest_layer(tmp_path, no_env_store, monkeypatch):
    (tmp_path / "pyproject.toml").write_text('[tool.hitnb]\nmode = "read-only"\n')
    monkeypatch.chdir(tmp_path)
    path = config.write_user_setting("max_size", "2GB")
    config.write_user_setting("mode", "off")
    assert path == tmp_path / "user-config.toml"
    assert hitnb.settings().max_size == 2 * 10**9
    assert hitnb.settings().mode == "read-only"  # the project file wins over the user file
    sources = config.sources()
    assert sources["max_size"] == str(path)
    assert sources["mode"].endswith("pyproject.toml [tool.hitnb]")
    assert sources["wait"] == "default"
    monkeypatch.setenv("HITNB_MAX_SIZE", "500MB")
    assert hitnb.settings().max_size == 500 * 10**6
    assert config.sources()["max_size"] == "the environment"
    config.write_user_setting("max_size", None)
    assert "max_size" not in path.read_text()


def test_sizes_and_unknown_settings():
    assert config.parse_size("1.5GiB") == int(1.5 * 2**30)
    assert config.parse_size(1234) == 1234
    with pytest.raises(ConfigError, match=r"write e\.g\. 500MB"):
        config.parse_size("lots")
    with pytest.raises(ConfigError, match=r"unknown setting 'colour'.*settings: store, mode"):
        hitnb.configure(colour="blue")
    with pytest.raises(ConfigError, match=r"lock_timeout in hitnb\.configure"):
        hitnb.configure(lock_timeout=-1)
