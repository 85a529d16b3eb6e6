"""The synthetic spine generator: anatomy values, geometry, Bilsky grades, determinism (fast phantoms)."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from tools.phantom import LEVEL_ORDER, Label, make_spine_phantom
from tools.phantom.anatomy import LEVEL_DIMS, SpineModel
from tools.phantom.appearance import TISSUE
from tools.phantom.raster import canal_geometry

GRADES = ("0", "1a", "1b", "1c", "2", "3")


@functools.cache
def phantom(grade: str = "3", modality: str = "CT", weighting: str = "T2", kind: str = "lytic_soft_tissue",
            direction: float = 180.0, level: str = "T6"):
    return make_spine_phantom(level=level, grade=grade, modality=modality, weighting=weighting, kind=kind,
                              direction_deg=direction, levels_above=0, levels_below=0, fov_mm=96.0,
                              slice_mm=1.0 if modality == "CT" else 4.0)


def _area(poly: list[list[float]]) -> float:
    p = np.asarray(poly)[:, :2]
    return 0.5 * abs(float(np.dot(p[:, 0], np.roll(p[:, 1], 1)) - np.dot(p[:, 1], np.roll(p[:, 0], 1))))


def _total_area(polys: list[list[list[float]]]) -> float:
    return sum(_area(p) for p in polys)


def _min_distance(a: list[list[list[float]]], b: list[list[list[float]]]) -> float:
    pa = np.concatenate([np.asarray(p)[:, :2] for p in a])
    pb = np.concatenate([np.asarray(p)[:, :2] for p in b])
    d = np.sqrt(((pa[:, None, :] - pb[None, :, :]) ** 2).sum(-1))
    return float(d.min())


def test_sizes_grow_from_cervical_to_lumbar() -> None:
    # Panjabi et al.: body width, depth and disc height grow caudally; canal is widest in the lumbar spine.
    for f in ("width", "depth"):
        assert getattr(LEVEL_DIMS["C4"], f) < getattr(LEVEL_DIMS["T6"], f) < getattr(LEVEL_DIMS["L3"], f)
    assert LEVEL_DIMS["C4"].disc_below < LEVEL_DIMS["L3"].disc_below
    assert LEVEL_DIMS["T6"].canal_lr < LEVEL_DIMS["L3"].canal_lr


def test_spine_curves() -> None:
    """Cervical and lumbar lordosis (apex anterior), thoracic kyphosis (apex posterior); +y is posterior."""
    sp = SpineModel()
    y = {lab: sp.body_centroid_lps(lab)[1] for lab in ("C2", "C5", "T1", "T7", "T12", "L3", "S1")}
    assert y["C5"] < min(y["C2"], y["T1"]) - 3     # cervical lordosis
    assert y["T7"] > max(y["T1"], y["T12"]) + 10   # thoracic kyphosis
    assert y["L3"] < min(y["T12"], y["S1"]) - 10   # lumbar lordosis
    z = [sp.body_centroid_lps(lab)[2] for lab in LEVEL_ORDER]
    assert all(a > b for a, b in zip(z, z[1:], strict=False))   # C1 on top, S1 at the bottom


def test_tissue_values_are_realistic() -> None:
    hu = {k: v[0] for k, v in TISSUE.items()}
    assert hu[Label.AIR] == -1000
    assert -120 <= hu[Label.FAT] <= -80
    assert 0 <= hu[Label.CSF] <= 15
    assert 30 <= hu[Label.CORD] <= 40
    assert 40 <= hu[Label.MUSCLE] <= 60
    assert 70 <= hu[Label.DISC_ANNULUS] <= 100 and 70 <= hu[Label.DISC_NUCLEUS] <= 100
    assert 150 <= hu[Label.BODY_CANCELLOUS] <= 300
    assert hu[Label.BODY_CORTEX] >= 700
    t1 = {k: v[2] for k, v in TISSUE.items()}
    t2 = {k: v[3] for k, v in TISSUE.items()}
    assert t2[Label.CSF] > t2[Label.CORD] and t1[Label.CSF] < t1[Label.CORD]
    assert t1[Label.FAT] > t1[Label.MUSCLE] and t2[Label.FAT] > t2[Label.MUSCLE]


def test_ct_phantom_measured_values() -> None:
    p = phantom("0")
    a, lab = p.volume.array, p.labels
    assert p.volume.modality == "CT" and a.dtype == np.int16

    def core(label: Label) -> np.ndarray:
        m = lab == label
        c = m.copy()   # away from edges (partial volume): the 4 in-plane neighbours have the same label
        c[:, 1:-1, 1:-1] &= m[:, :-2, 1:-1] & m[:, 2:, 1:-1] & m[:, 1:-1, :-2] & m[:, 1:-1, 2:]
        assert c.sum() > 30, label
        return c

    def mean(label: Label) -> float:
        return float(a[core(label)].mean())

    assert -120 < mean(Label.VISCERAL_FAT) < -70
    assert 30 < mean(Label.PARASPINAL) < 70
    assert 100 < mean(Label.BODY_CANCELLOUS) < 320
    assert float(np.percentile(a[lab == Label.BODY_CORTEX], 90)) > 650
    assert -5 < mean(Label.CSF) < 25
    noise = float(a[core(Label.PARASPINAL)].std())
    assert 5 < noise < 25


def test_axial_geometry_and_centroids() -> None:
    """Slice 0 is the most cranial; LPS axes as in DICOM; body centroids fall in their own vertebral body."""
    p = phantom("0", level="T6")
    v = p.volume
    assert np.allclose(v.row_direction, [1, 0, 0]) and np.allclose(v.column_direction, [0, 1, 0])
    assert v.affine[2, 2] < 0
    for lab, c in p.truth["vertebrae"].items():
        i = np.rint(v.lps_to_index(c)).astype(int)
        assert p.levels[i[2], i[1], i[0]] == LEVEL_ORDER.index(lab) + 1
        assert p.labels[i[2], i[1], i[0]] in (Label.BODY_CANCELLOUS, Label.TUMOUR)
    # The canal lies posterior (+y) to the body centre.
    sp = p.spine
    s = sp.vertebra("T6").s
    g = canal_geometry(sp, np.array([s]))
    assert sp.local_to_lps(0, float(g.v_canal[0]), s)[1] > sp.body_centroid_lps("T6")[1] + 10


def test_bodies_and_discs_separable_on_ct() -> None:
    """Along the spine, bone (end plates) and disc alternate: a body profile detector can see the discs."""
    p = phantom("0", level="L3")
    v = p.volume
    c = np.rint(v.lps_to_index(p.truth["vertebrae"]["L3"])).astype(int)
    profile = v.array[:, c[1], c[0]].astype(float)
    labels = p.labels[:, c[1], c[0]]
    disc = np.isin(labels, (Label.DISC_ANNULUS, Label.DISC_NUCLEUS))
    assert disc.any() and (labels == Label.BODY_CANCELLOUS).any()
    assert profile[disc].mean() < profile[labels == Label.BODY_CANCELLOUS].mean() - 60


@pytest.mark.parametrize("grade", GRADES)
def test_bilsky_grade_geometry(grade: str) -> None:
    p = phantom(grade)
    cont = p.truth["compression_contours_lps"]
    sac = _total_area(cont["thecal_sac"])
    cord = _total_area(cont["cord"])
    epi = cont["epidural_tumour"]
    base = phantom("0").truth["compression_contours_lps"]
    sac0, cord0 = _total_area(base["thecal_sac"]), _total_area(base["cord"])
    assert cont["bony_canal"] and cord > 0
    if grade == "0":
        assert not epi
        return
    assert epi, "an epidural tumour outline is expected"
    if grade == "1a":
        assert abs(sac - sac0) / sac0 < 0.03          # sac not deformed
        assert _min_distance(epi, cont["thecal_sac"]) > 0.1
    if grade in ("1b", "1c", "2", "3"):
        assert sac < 0.99 * sac0                       # sac indented
    if grade in ("1a", "1b", "1c"):
        assert abs(cord - cord0) / cord0 < 0.03        # cord not deformed
    if grade == "1b":
        assert _min_distance(epi, cont["cord"]) > 0.3
    if grade == "1c":
        assert _min_distance(epi, cont["cord"]) < 0.35
    if grade == "2":
        assert cord < 0.97 * cord0 or _min_distance(epi, cont["cord"]) < 0.3
        assert sac - cord > 0.15 * sac                 # CSF still around the cord
    if grade == "3":
        assert sac - cord < 0.02 * sac                 # no CSF left
    # The voxel labels agree on the worst slice.
    lab = p.labels[p.truth["worst_slice"]]
    assert ((lab == Label.CSF).sum() == 0) == (grade == "3")
    assert (lab == Label.CORD).sum() > 0


def test_ct_lesion_kinds() -> None:
    for kind, lo, hi in (("lipomatous", -120, -30), ("blastic", 500, 1200), ("lytic_soft_tissue", 20, 70)):
        p = phantom("0", kind=kind)
        m = (p.lesions > 0) & (p.labels == Label.TUMOUR)
        assert m.sum() > 50
        assert lo < float(p.volume.array[m].mean()) < hi, kind


def test_mr_contrasts() -> None:
    t1 = phantom("2", modality="MR", weighting="T1", kind="marrow_replacing")
    t2 = phantom("2", modality="MR", weighting="T2", kind="marrow_replacing")

    def mean(p, label, lesion: bool = False) -> float:
        m = p.labels == label
        m &= (p.lesions > 0) if lesion else (p.lesions == 0)
        assert m.sum() > 5, label
        return float(p.volume.array[m].mean())

    assert mean(t2, Label.CSF) > 1.5 * mean(t2, Label.CORD)
    assert mean(t1, Label.CSF) < mean(t1, Label.CORD)
    fat = Label.VISCERAL_FAT
    assert mean(t1, fat) > mean(t1, Label.PARASPINAL) and mean(t2, fat) > mean(t2, Label.PARASPINAL)
    lesion_t1 = float(t1.volume.array[(t1.lesions > 0) & (t1.labels == Label.TUMOUR)].mean())
    lesion_t2 = float(t2.volume.array[(t2.lesions > 0) & (t2.labels == Label.TUMOUR)].mean())
    assert lesion_t1 < 0.7 * mean(t1, Label.BODY_CANCELLOUS)
    assert lesion_t2 > 1.3 * mean(t2, Label.BODY_CANCELLOUS)
    assert t1.volume.array.dtype == np.uint16 and t1.volume.array.min() >= 0


def test_deterministic() -> None:
    a = make_spine_phantom(level="L2", grade="1b", levels_above=0, levels_below=0, fov_mm=64.0, contours=False)
    b = make_spine_phantom(level="L2", grade="1b", levels_above=0, levels_below=0, fov_mm=64.0, contours=False)
    assert np.array_equal(a.volume.array, b.volume.array) and np.array_equal(a.labels, b.labels)
    c = make_spine_phantom(level="L2", grade="1b", levels_above=0, levels_below=0, fov_mm=64.0, contours=False,
                           seed=5)
    assert not np.array_equal(a.volume.array, c.volume.array)
    assert np.array_equal(a.labels, c.labels)
