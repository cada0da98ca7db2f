"""INSTANCE_DIR moves an installation's own files: the SQLite database, the generated secret
key, attachments and Celery's beat state follow it, unless their own settings say otherwise.
Unset: the checkout's instance/ as before."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app import config

ROOT = Path(__file__).resolve().parent.parent
OWN_SETTINGS = ("DATABASE_URL", "SECRET_KEY", "ATTACHMENTS_DIR", "CELERY_BEAT_SCHEDULE_FILE")


@pytest.fixture
def environment(monkeypatch):
    for name in (*OWN_SETTINGS, "INSTANCE_DIR"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_every_default_file_follows_the_instance_dir(environment, tmp_path):
    folder = tmp_path / "mine" / "mesa"
    environment.setenv("INSTANCE_DIR", str(folder))
    settings = config.load_settings()
    assert folder.is_dir()  # made when missing, parents too
    assert settings["INSTANCE_DIR"] == str(folder)
    assert settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{folder / 'mesa.db'}"
    assert (folder / "secret_key").read_text().strip() == settings["SECRET_KEY"]
    assert settings["ATTACHMENTS_DIR"] == str(folder / "attachments")
    assert settings["CELERY_BEAT_SCHEDULE_FILE"] == str(folder / "celerybeat-schedule")
    assert config.load_settings()["SECRET_KEY"] == settings["SECRET_KEY"]  # kept, not remade


def test_a_relative_instance_dir_is_taken_from_where_the_app_starts(environment, tmp_path):
    environment.chdir(tmp_path)
    environment.setenv("INSTANCE_DIR", "here")
    assert config.load_settings()["INSTANCE_DIR"] == str(tmp_path / "here")


def test_its_own_settings_still_win(environment, tmp_path):
    environment.setenv("INSTANCE_DIR", str(tmp_path / "mine"))
    environment.setenv("DATABASE_URL", "sqlite:///" + str(tmp_path / "other.db"))
    environment.setenv("SECRET_KEY", "s" * 64)
    environment.setenv("ATTACHMENTS_DIR", str(tmp_path / "files"))
    settings = config.load_settings()
    assert settings["SQLALCHEMY_DATABASE_URI"].endswith("other.db")
    assert settings["SECRET_KEY"] == "s" * 64 and not (tmp_path / "mine" / "secret_key").exists()
    assert settings["ATTACHMENTS_DIR"] == str(tmp_path / "files")


def test_unset_it_is_the_checkouts_instance_folder(environment):
    environment.setenv("SECRET_KEY", "k" * 64)  # nothing written to the checkout
    settings = config.load_settings()
    assert settings["INSTANCE_DIR"] == str(ROOT / "instance")
    assert settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{ROOT / 'instance' / 'mesa.db'}"


def test_the_app_runs_its_database_in_the_instance_dir(tmp_path):
    """A fresh process with only INSTANCE_DIR set: `flask db upgrade` makes the database there."""
    env = {k: v for k, v in os.environ.items() if k not in (*OWN_SETTINGS, "INSTANCE_DIR")}
    env.update(INSTANCE_DIR=str(tmp_path / "inst"), EMBEDDED_TIMERS="0")
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "inst" / "mesa.db").stat().st_size > 0
    assert (tmp_path / "inst" / "secret_key").exists()
