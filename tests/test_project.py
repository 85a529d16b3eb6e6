"""The project's own promises: packaging, the two README commands, CI, and the `spinecase info` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.dicom_factory import write_series

ROOT = Path(__file__).resolve().parent.parent


def test_pyproject_declares_runtime_deps_test_extra_and_script() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = " ".join(project["dependencies"]).lower()
    for name in ("pyside6-essentials", "pydicom>=3", "numpy", "simpleitk", "highdicom", "pylibjpeg",
                 "pylibjpeg-libjpeg", "pylibjpeg-openjpeg"):
        assert name in deps, name
    extra = " ".join(project["optional-dependencies"]["test"]).lower()
    for name in ("pytest", "pytest-qt", "hypothesis"):
        assert name in extra, name
    assert project["scripts"]["spinecase"] == "app.cli:main"


def test_fixed_top_level_layout() -> None:
    for name in ("app", "imaging", "widgets", "sample_dicoms", "tests", "pyproject.toml", "README.md",
                 "Makefile", ".ci/run"):
        assert (ROOT / name).exists(), name


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci and "set -e" in ci
    assert os.access(ROOT / ".ci" / "run", os.X_OK)
    readme = (ROOT / "README.md").read_text()
    assert "make run" in readme and "make test" in readme


def test_makefile_targets_do_what_the_readme_says() -> None:
    out = subprocess.run(["make", "-n", "test", "run", "bench"], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "DISPLAY": ":99"})
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert ".ci/system-packages test" in text and ".ci/system-packages run" in text
    assert "QT_QPA_PLATFORM=offscreen" in text and "pytest" in text
    assert "spinecase open sample_dicoms/thoracic_ddlps/case.spinecase.json --layout spine" in text
    assert "benchmarks/bench_load.py" in text


@pytest.mark.skipif(not (ROOT / ".venv" / "bin" / "spinecase").exists(), reason="needs the project venv")
def test_make_run_without_a_display_says_so_in_one_line() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    out = subprocess.run(["make", "--no-print-directory", "-s", "run"], cwd=ROOT, capture_output=True,
                         text=True, env=env, timeout=300)
    assert out.returncode != 0
    lines = [ln for ln in out.stdout.splitlines() if ln.strip()]
    assert len(lines) == 1, out.stdout
    assert "No display" in lines[0] and "xvfb-run" in lines[0]


def test_system_packages_script_names_missing_packages_when_not_root(tmp_path: Path) -> None:
    """Without root it must not try to install; it names what is missing (or nothing is missing)."""
    if os.geteuid() == 0:
        fake_id = tmp_path / "id"
        fake_id.write_text("#!/bin/sh\necho 1000\n")
        fake_id.chmod(0o755)
        fake_dpkg = tmp_path / "dpkg-query"
        fake_dpkg.write_text("#!/bin/sh\nexit 1\n")  # pretend nothing is installed
        fake_dpkg.chmod(0o755)
        env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"}
    else:
        env = dict(os.environ)
    out = subprocess.run([str(ROOT / ".ci" / "system-packages"), "test"], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        assert "Missing system packages:" in out.stderr and "dicom3tools" in out.stderr
        assert "apt-get install" in out.stderr


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=ROOT, capture_output=True, text=True)


def test_info_json_lists_series_and_skipped_files(tmp_path: Path) -> None:
    write_series(tmp_path / "ct", shape=(4, 6, 6), description="AX CT")
    write_series(tmp_path / "mr", shape=(5, 5, 5), modality="MR", description="SAG T2", row_dir=(0, 1, 0),
                 col_dir=(0, 0, -1), rescale=(1, 0), drop=(1,))
    (tmp_path / "junk.txt").write_text("hello")
    out = _cli("info", str(tmp_path), "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    by_desc = {s["description"]: s for s in data["series"]}
    assert by_desc["AX CT"]["modality"] == "CT" and by_desc["AX CT"]["size"] == [6, 6, 4]
    assert by_desc["SAG T2"]["orientation"] == "sagittal"
    assert any("missing slice" in w for w in by_desc["SAG T2"]["warnings"])
    assert by_desc["AX CT"]["spacing_mm"] == pytest.approx([0.5, 0.7, 2.0])
    assert [Path(s["path"]).name for s in data["skipped"]] == ["junk.txt"]
    assert data["skipped"][0]["reason"] == "not a DICOM file"


def test_info_text_and_errors(tmp_path: Path) -> None:
    write_series(tmp_path, shape=(2, 4, 4), pixel_spacing=False, description="NO SPACING")
    out = _cli("info", str(tmp_path))
    assert out.returncode == 0
    assert "NO SPACING" in out.stdout and " px " in out.stdout and "lengths are in pixels" in out.stdout
    bad = _cli("info", str(tmp_path / "missing"))
    assert bad.returncode == 1 and "no such file or folder" in bad.stderr and "Traceback" not in bad.stderr
