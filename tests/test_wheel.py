"""Installed like a tool (issue 24 §1): what ``pipx install seedream-tui`` / ``uv tool install seedream-tui`` gets.

The sdist is built from a copy of the source (the files a release is made of, nothing else), the wheel is
built from that sdist (so the sdist carries everything), both with no warning from the build backend. The
wheel is installed into a fresh venv (``--no-deps``: the dependencies are reached through a ``.pth`` line
to this interpreter's site-packages, which holds no copy of seedream_tui, only an editable finder that a
``.pth`` line does not load), and a demo job runs end to end through the installed console script from a
folder with no access to the source tree. Offline: the build uses the backend installed here.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: what a release is built from: the package, its metadata and the files the metadata names
RELEASE_FILES = ("pyproject.toml", "README.md", "LICENSE")


@dataclass
class Built:
    log: str
    sdist: Path
    wheel: Path
    venv: Path
    scratch: Path


def _release_copy(dest: Path) -> Path:
    dest.mkdir()
    for name in RELEASE_FILES:
        shutil.copy2(ROOT / name, dest / name)
    shutil.copytree(ROOT / "seedream_tui", dest / "seedream_tui",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
    return dest


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "PIP_", "VIRTUAL_ENV", "SEEDREAM_", "RUNCOMFY_"))}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    scratch = tmp_path_factory.mktemp("wheel")
    src = _release_copy(scratch / "src")
    dist = scratch / "dist"
    # python -m build with no --sdist/--wheel: the sdist first, then the wheel built from the unpacked sdist
    done = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(src)],
        capture_output=True, text=True, env=_clean_env(), timeout=120,
    )
    log = done.stdout + done.stderr
    assert done.returncode == 0, log
    (sdist,) = dist.glob("seedream_tui-*.tar.gz")
    (wheel,) = dist.glob("seedream_tui-*-py3-none-any.whl")
    venv = scratch / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--quiet",
         "--no-deps", "--no-index", "--no-compile", "--disable-pip-version-check", str(wheel)],
        capture_output=True, text=True, env=_clean_env(), timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    site = Path(subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True, env=_clean_env(), timeout=60,
    ).stdout.strip())
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "zz_dependencies.pth").write_text("".join(f"{d}\n" for d in sorted(deps)))
    yield Built(log, sdist, wheel, venv, scratch)


def test_the_sdist_and_the_wheel_build_without_warnings(built: Built) -> None:
    noisy = [line for line in built.log.splitlines() if re.search(r"warn|deprecat", line, re.IGNORECASE)]
    assert noisy == [], "\n".join(noisy)


def test_the_license_is_an_spdx_expression_and_its_file_is_shipped(built: Built) -> None:
    with zipfile.ZipFile(built.wheel) as whl:
        names = whl.namelist()
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        text = whl.read(metadata).decode()
        (license_file,) = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
        assert whl.read(license_file) == (ROOT / "LICENSE").read_bytes()
    assert "License-Expression: MIT" in text
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    with tarfile.open(built.sdist) as sdist:
        assert any(name.endswith("/LICENSE") and name.count("/") == 1 for name in sdist.getnames())


def test_every_runtime_file_of_the_package_is_in_the_wheel(built: Built) -> None:
    """Schemas, the .tcss, anything else beside the modules: a file added later and forgotten in the
    package data shows up here."""
    wanted = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "seedream_tui").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }
    with zipfile.ZipFile(built.wheel) as whl:
        shipped = set(whl.namelist())
    assert wanted - shipped == set()
    assert any(name.endswith(".tcss") for name in wanted) and any(name.endswith(".json") for name in wanted)


def test_the_installed_tool_runs_a_demo_job_from_the_wheel_alone(built: Built) -> None:
    cwd = built.scratch / "elsewhere"
    cwd.mkdir()
    home = cwd / "home"
    env = _clean_env(
        HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), XDG_DATA_HOME=str(home / ".local/share"),
        XDG_CACHE_HOME=str(home / ".cache"), XDG_STATE_HOME=str(home / ".local/state"), LANG="C.UTF-8",
    )
    python, tool = built.venv / "bin" / "python", built.venv / "bin" / "seedream-tui"
    where = subprocess.run(
        [str(python), "-c", "import seedream_tui, seedream_tui.tui.app, seedream_tui.fake.server as s; "
         "print(seedream_tui.__file__); print(s.__file__)"],
        capture_output=True, text=True, cwd=cwd, env=env, timeout=120,
    )
    assert where.returncode == 0, where.stderr
    for line in where.stdout.split():  # the wheel's copy, never the source tree's
        assert Path(line).is_relative_to(built.venv), line

    version = subprocess.run([str(tool), "--version"], capture_output=True, text=True, cwd=cwd, env=env, timeout=60)
    assert version.returncode == 0 and version.stdout.startswith("seedream-tui "), version.stderr

    done = subprocess.run(
        [str(tool), "--demo", "submit", "a fox in the snow", "--wait", "--json"],
        capture_output=True, text=True, cwd=cwd, env=env, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    job = json.loads(done.stdout)
    assert job["status"] == "completed" and job["inputs"]["prompt"] == "a fox in the snow"
    (output,) = job["outputs"]
    image = Path(output["path"])
    assert image.is_relative_to(home) and image.stat().st_size == output["size"] > 0
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Traceback" not in done.stderr

    # the bug-report page and the completion scripts work from the wheel too (shtab is a dependency)
    doctor = subprocess.run([str(tool), "--demo", "doctor", "--json"], capture_output=True, text=True, cwd=cwd,
                            env=env, timeout=60)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    report = json.loads(doctor.stdout)
    assert report["history"]["jobs"] == 1 and report["history"]["check"] == "ok"
    assert Path(report["paths"]["history"]).is_relative_to(home)
    completion = subprocess.run([str(tool), "completion", "bash"], capture_output=True, text=True, cwd=cwd,
                                env=env, timeout=60)
    assert completion.returncode == 0 and "complete -o bashdefault -F _shtab_seedream_tui" in completion.stdout
