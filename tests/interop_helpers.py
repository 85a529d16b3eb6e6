"""Helpers for the interoperability tests: run the real readers (OHIF's dcmjs + @cornerstonejs/adapters under
Node.js, dcmqi's tid1500reader, dcmtk's dsrdump, dicom3tools' dciodvfy) on what SpineCase writes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydicom.dataset import Dataset

from imaging import measure
from imaging.case.model import Measurement

ROOT = Path(__file__).resolve().parents[1]
NODE_DIR = ROOT / "tests" / "node"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(tool: str, why: str) -> str:
    """The path of ``tool``; in CI a missing tool fails the test (make test installs it), elsewhere it
    skips."""
    path = shutil.which(tool) or (str(Path(sys.executable).parent / tool)
                                  if (Path(sys.executable).parent / tool).exists() else None)
    if path is None:
        message = f"{tool} not found ({why}); 'make test' installs it"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


def node_ready() -> None:
    """Node.js with tests/node's packages installed (``npm ci``, as ``make test`` does, when missing)."""
    require("node", "OHIF's SR libraries run under Node.js")
    if not (NODE_DIR / "node_modules" / "@cornerstonejs" / "adapters").is_dir():
        npm = require("npm", "installs tests/node's pinned packages")
        subprocess.run([npm, "ci", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"],
                       cwd=NODE_DIR, check=True, timeout=600)


def image_entries(headers: Iterable[Dataset]) -> list[dict[str, Any]]:
    """The image descriptions tests/node/ohif_sr.mjs needs (as a DICOMweb metadata provider gives them)."""
    out = []
    for ds in headers:
        out.append({
            "sopInstanceUID": str(ds.SOPInstanceUID), "sopClassUID": str(ds.SOPClassUID), "frame": 1,
            "seriesInstanceUID": str(ds.SeriesInstanceUID), "studyInstanceUID": str(ds.StudyInstanceUID),
            "frameOfReferenceUID": str(getattr(ds, "FrameOfReferenceUID", "")),
            "imagePositionPatient": [float(v) for v in ds.ImagePositionPatient],
            "imageOrientationPatient": [float(v) for v in ds.ImageOrientationPatient],
            "pixelSpacing": [float(v) for v in ds.PixelSpacing], "rows": int(ds.Rows), "columns": int(ds.Columns),
            "instance": {k: str(getattr(ds, k, "")) for k in (
                "PatientID", "PatientName", "PatientBirthDate", "PatientSex", "StudyDate", "StudyTime", "StudyID",
                "AccessionNumber", "Modality", "SeriesNumber", "SeriesDescription", "Manufacturer")},
        })
    return out


def run_node(command: str, *args: str | Path) -> Any:
    node_ready()
    result = subprocess.run([require("node", "OHIF's SR libraries"), str(NODE_DIR / "ohif_sr.mjs"), command,
                             *map(str, args)], capture_output=True, text=True, encoding="utf-8", timeout=300,
                            cwd=NODE_DIR)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def hydrate(sr_paths: Sequence[Path], headers: Sequence[Dataset], tmp_path: Path) -> list[dict[str, Any]]:
    """Run OHIF's hydration (MeasurementReport.generateToolState) on SR files: per file, its groups and the
    Cornerstone3D tool state made of them."""
    images = tmp_path / "hydrate-images.json"
    images.write_text(json.dumps(image_entries(headers)), encoding="utf-8")
    return run_node("hydrate", images, *sr_paths)  # type: ignore[return-value]


CS3D_TOOL_OF_KIND = {"length": "Length", "cc_extent": "Length", "bidirectional": "Bidirectional",
                     "ellipse_roi": "EllipticalROI", "polygon_roi": "PlanarFreehandROI",
                     "freehand_roi": "PlanarFreehandROI", "angle": "Angle", "cobb": "CobbAngle", "probe": "Probe"}


def cs3d_points(m: Measurement) -> np.ndarray:
    """The handle points (LPS mm) Cornerstone3D's tool holds for a measurement (the contour polyline for a
    PlanarFreehandROI)."""
    p = np.asarray(m.points, dtype=np.float64)
    if m.kind == "bidirectional":
        b = measure.bidirectional(*p)
        return np.array([*b.long_axis, *b.short_axis], dtype=np.float64)
    if m.kind == "ellipse_roi":
        c, e1, e2 = p
        a, b = e1 - c, e2 - c
        b = b - np.dot(b, a) / np.dot(a, a) * a
        if np.linalg.norm(b) > np.linalg.norm(a):
            a, b = b, a
        return np.array([c - a, c + a, c - b, c + b])
    return p


def dsrdump(path: Path) -> str:
    result = subprocess.run([require("dsrdump", "dcmtk reads SRs"), "-Ee", str(path)], capture_output=True,
                            timeout=60)
    out = (result.stdout + result.stderr).decode("utf-8", "replace")
    assert result.returncode == 0, out[-2000:]
    return out


def dciodvfy_errors(path: Path) -> list[str]:
    result = subprocess.run([require("dciodvfy", "dicom3tools validates DICOM"), str(path)], capture_output=True,
                            timeout=60)
    out = (result.stdout + result.stderr).decode("utf-8", "replace")
    return [line for line in out.splitlines() if line.startswith("Error")]


def tid1500reader(path: Path, tmp_path: Path) -> dict[str, Any]:
    """dcmqi's reading of a TID 1500 SR (what 3D Slicer's QuantitativeReporting shows)."""
    out = tmp_path / f"{path.stem}-dcmqi.json"
    result = subprocess.run([require("tid1500reader", "dcmqi (PyPI) reads SRs as Slicer does"), "--inputDICOM",
                             str(path), "--outputMetadata", str(out)], capture_output=True, timeout=120)
    assert result.returncode == 0, (result.stdout + result.stderr).decode("utf-8", "replace")[-2000:]
    return json.loads(out.read_text(encoding="utf-8"))
