"""Vertebral body detection on CT and labelling from one named vertebra."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pytest

import imaging
from imaging.spine.detect import VertebraCandidate, detect_vertebrae, label_vertebrae
from imaging.volume import Volume

SAMPLES = Path(__file__).resolve().parent.parent / "sample_dicoms"
TOLERANCE_MM = 5.0


# -- the sample cases ------------------------------------------------------------------------------------

def _ct_series() -> list[tuple[str, str]]:
    """(case folder, series key) of every CT series of every sample case with a truth.json."""
    out = []
    for truth_path in sorted(SAMPLES.glob("*/truth.json")):
        truth = json.loads(truth_path.read_text())
        for series in truth.get("series", []):
            if series.get("modality") == "CT":
                out.append((truth_path.parent.name, series["key"]))
    return out


CT_SERIES = _ct_series()


@cache
def _detected(case: str, key: str) -> tuple[list[VertebraCandidate], list[dict]]:
    """Detection on one sample CT (loaded as the application does) and the truth vertebrae in its field."""
    folder = SAMPLES / case
    truth = json.loads((folder / "truth.json").read_text())
    uid = next(s["series_uid"] for s in truth["series"] if s["key"] == key)
    info = next(s for s in imaging.scan_series(folder) if s.series_uid == uid)
    volume = imaging.load_series(info)
    vertebrae = [v for v in truth["vertebrae"] if key in v["series"]]
    return detect_vertebrae(volume), vertebrae


def _matches(candidates: list[VertebraCandidate], vertebrae: list[dict]) -> dict[str, int]:
    """Truth label -> index of the nearest candidate."""
    return {v["label"]: int(np.argmin([np.linalg.norm(np.subtract(c.center_lps, v["centroid_lps"]))
                                       for c in candidates])) for v in vertebrae}


@pytest.mark.skipif(not CT_SERIES, reason="no sample case with a truth.json under sample_dicoms/ yet")
@pytest.mark.parametrize(("case", "key"), CT_SERIES)
def test_every_body_in_the_field_is_found_within_5_mm(case: str, key: str) -> None:
    candidates, vertebrae = _detected(case, key)
    assert vertebrae, "the truth lists no vertebra in this series"
    nearest = _matches(candidates, vertebrae)
    for v in vertebrae:
        distance = float(np.linalg.norm(np.subtract(candidates[nearest[v["label"]]].center_lps, v["centroid_lps"])))
        assert distance <= TOLERANCE_MM, f"{case}/{key} {v['label']}: nearest candidate {distance:.1f} mm away"
    assert len(set(nearest.values())) == len(vertebrae), "two vertebrae matched the same candidate"
    assert len(candidates) == len(vertebrae), f"{len(candidates)} candidates for {len(vertebrae)} vertebrae"


@pytest.mark.skipif(not CT_SERIES, reason="no sample case with a truth.json under sample_dicoms/ yet")
@pytest.mark.parametrize(("case", "key"), CT_SERIES)
def test_naming_any_one_vertebra_names_all_correctly(case: str, key: str) -> None:
    candidates, vertebrae = _detected(case, key)
    nearest = _matches(candidates, vertebrae)
    expected = {index: label for label, index in nearest.items()}
    for index, label in expected.items():
        labels = label_vertebrae(candidates, index, label)
        assert {i: labels[i] for i in expected} == expected


# -- a synthetic column ----------------------------------------------------------------------------------

def _synthetic_column(lytic_body: int | None = None, keep_end_plates: bool = True) -> tuple[Volume, list[np.ndarray]]:
    """Five elliptical vertebral bodies (300 HU, cortex and end plates of 900 HU) 20 mm high, separated by
    6 mm discs (80 HU), in soft tissue (40 HU), with a gentle sagittal curve; 1 mm pixels, 2 mm axial slices
    ordered from head to feet. ``lytic_body`` gets a 30 HU lesion filling its middle, inside the cortical
    shell, and (unless ``keep_end_plates``) through its end plates."""
    rng = np.random.default_rng(0)
    nz, ny, nx = 80, 120, 120
    zs = 150.0 - 2.0 * np.arange(nz)           # LPS z of each slice (superior first)
    yy, xx = np.mgrid[0:ny, 0:nx].astype(float)
    xx -= 60.0
    yy -= 60.0
    volume = np.full((nz, ny, nx), 40.0)
    centres = []
    for k in range(5):
        top = 145.0 - 26.0 * k
        zc = top - 10.0
        y_c = 0.02 * (zc - 80.0) ** 2 / 10.0 - 5.0  # the curve: y varies with z
        centres.append(np.array([0.0, y_c, zc]))
        for i, z in enumerate(zs):
            if not top - 20.0 <= z <= top:
                continue
            r = ((xx / 18.0) ** 2 + ((yy - y_c) / 14.0) ** 2)
            inside = r <= 1.0
            volume[i][inside] = 300.0
            shell = inside & (r >= (1 - 1 / 14.0) ** 2)
            plate = abs(z - top) <= 1.5 or abs(z - (top - 20.0)) <= 1.5
            volume[i][shell | (inside & plate)] = 900.0
            if k == lytic_body and not (plate and keep_end_plates):
                volume[i][r <= 0.7 ** 2] = 30.0
    volume += rng.normal(0, 10, volume.shape)
    affine = np.eye(4)
    affine[:3, 3] = (-60.0, -60.0, zs[0])
    affine[2, 2] = -2.0
    return Volume(volume.astype(np.int16), affine, modality="CT"), centres


def test_synthetic_column_bodies_found() -> None:
    volume, centres = _synthetic_column()
    candidates = detect_vertebrae(volume)
    assert len(candidates) == 5
    for c, truth in zip(candidates, centres, strict=True):  # cranial first
        assert np.linalg.norm(np.subtract(c.center_lps, truth)) < 2.0
        assert c.height_mm == pytest.approx(20.0, abs=3.0)  # 2 mm slices widen a body by up to a slice
        assert c.confidence == 1.0 and c.kind == "body"


@pytest.mark.parametrize("keep_end_plates", [True, False])
def test_a_lytic_lesion_inside_a_body_does_not_split_or_hide_it(keep_end_plates: bool) -> None:
    volume, centres = _synthetic_column(lytic_body=2, keep_end_plates=keep_end_plates)
    candidates = detect_vertebrae(volume)
    assert len(candidates) == 5
    assert np.linalg.norm(np.subtract(candidates[2].center_lps, centres[2])) < 2.5


def test_detection_rejects_non_ct_and_empty_volumes() -> None:
    volume, _ = _synthetic_column()
    mr = Volume(volume.array, volume.affine, modality="MR")
    with pytest.raises(ValueError, match="CT"):
        detect_vertebrae(mr)
    soft = Volume(np.full((20, 40, 40), 40, dtype=np.int16), np.eye(4), modality="CT")
    with pytest.raises(ValueError, match="no vertebral column"):
        detect_vertebrae(soft)


# -- labelling -------------------------------------------------------------------------------------------

def _candidates(n: int, kinds: dict[int, str] | None = None) -> list[VertebraCandidate]:
    kinds = kinds or {}
    return [VertebraCandidate((0.0, 0.0, -30.0 * i), (0.0, 0.0, -30.0 * i + 10), (0.0, 0.0, -30.0 * i - 10),
                              20.0, 1.0, (), kinds.get(i, "body")) for i in range(n)]


def test_label_walks_both_ways() -> None:
    assert label_vertebrae(_candidates(5), 2, "T12") == ["T10", "T11", "T12", "L1", "L2"]
    assert label_vertebrae(_candidates(4), 0, "L4") == ["L4", "L5", "S1", "S2"]
    assert label_vertebrae(_candidates(3), 2, "t1") == ["C6", "C7", "T1"]


def test_label_uses_variants_only_when_asked() -> None:
    assert label_vertebrae(_candidates(3), 0, "T12") == ["T12", "L1", "L2"]
    assert label_vertebrae(_candidates(3), 0, "T12", variants={"T13"}) == ["T12", "T13", "L1"]
    assert label_vertebrae(_candidates(3), 2, "S1", variants={"L6"}) == ["L5", "L6", "S1"]
    assert label_vertebrae(_candidates(2), 0, "T13") == ["T13", "L1"]  # naming a variant itself


def test_label_end_of_column() -> None:
    with pytest.raises(ValueError, match="above C1"):
        label_vertebrae(_candidates(3), 1, "C1")
    with pytest.raises(ValueError, match="below the coccyx"):
        label_vertebrae(_candidates(3), 1, "Co")
    assert label_vertebrae(_candidates(3), 2, "Co") == ["S4", "S5", "Co"]
    with pytest.raises(ValueError, match="index 3"):
        label_vertebrae(_candidates(3), 3, "L1")
    with pytest.raises(ValueError, match="T14"):
        label_vertebrae(_candidates(3), 0, "T14")


def test_label_respects_a_recognised_atlas_and_axis() -> None:
    cands = _candidates(4, {0: "atlas", 1: "axis"})
    assert label_vertebrae(cands, 3, "C4") == ["C1", "C2", "C3", "C4"]
    with pytest.raises(ValueError, match="atlas"):
        label_vertebrae(cands, 3, "C5")
