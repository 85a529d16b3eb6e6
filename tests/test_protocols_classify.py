"""Series classification (Qt-free): every sample series, and headers written here to mimic how Siemens, GE and
Philips scanners name spine MR and CT series (T1, T2, STIR/TIRM, T1 post contrast, Dixon water/fat/in/opp,
DWI/ADC, localisers, calibration scans, CT bone and soft kernels), plus hostile header values."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from imaging import scan_series
from imaging.protocols import classify_all, classify_header
from imaging.protocols.classify import HANGABLE_ROLES, kernel_from_name

SAMPLES = Path(__file__).resolve().parents[1] / "sample_dicoms"

ORIGINAL = ["ORIGINAL", "PRIMARY", "M", "ND"]
SE = {"ScanningSequence": "SE"}
SIEMENS_T2 = {**SE, "SequenceName": "*tse2d1_15", "EchoTime": "96", "RepetitionTime": "3500", "ImageType": ORIGINAL}
SIEMENS_T1 = {**SE, "SequenceName": "*tse2d1_3", "EchoTime": "11", "RepetitionTime": "600", "ImageType": ORIGINAL}


def mr(description: str, **values: object) -> dict[str, object]:
    return {"Modality": "MR", "SeriesDescription": description, **values}


def ct(description: str, kernel: str | None = None, **values: object) -> dict[str, object]:
    h: dict[str, object] = {"Modality": "CT", "SeriesDescription": description, **values}
    if kernel is not None:
        h["ConvolutionKernel"] = kernel
    return h


# (vendor, header, plane, expected fields)
HEADERS: list[tuple[str, dict[str, object], str, dict[str, object]]] = [
    # -- Siemens MR ------------------------------------------------------------------------------------
    ("siemens", mr("t2_tse_sag_384", ProtocolName="t2_tse_sag_384", **SIEMENS_T2), "sagittal",
     {"weighting": "T2", "contrast": "none", "role": "image", "fat_suppressed": False}),
    ("siemens", mr("t1_tse_sag", **SIEMENS_T1), "sagittal", {"weighting": "T1", "role": "image"}),
    ("siemens", mr("t2_tirm_sag", SequenceName="*tir2d1_15", ScanningSequence=["SE", "IR"], InversionTime="160",
                   EchoTime="60", RepetitionTime="4000"), "sagittal",
     {"weighting": "STIR", "fat_suppressed": True}),
    ("siemens", mr("t2_tirm_tra_dark-fluid", SequenceName="*tir2d1_16", ScanningSequence=["SE", "IR"],
                   InversionTime="2500", EchoTime="81", RepetitionTime="9000"), "axial", {"weighting": "FLAIR"}),
    ("siemens", mr("t1_tse_fs_sag_post", ContrastBolusAgent="Gadovist", **SIEMENS_T1), "sagittal",
     {"weighting": "T1", "contrast": "post", "fat_suppressed": True}),
    ("siemens", mr("t1_tse_tra", ContrastBolusAgent="Dotarem 10 ml", ContrastBolusRoute="IV", **SIEMENS_T1),
     "axial", {"weighting": "T1", "contrast": "post"}),
    ("siemens", mr("t2_tse_dixon_sag_W", ImageType=["DERIVED", "PRIMARY", "DIXON", "WATER"], **SE), "sagittal",
     {"weighting": "T2", "dixon": "water", "fat_suppressed": True, "role": "image"}),
    ("siemens", mr("t2_tse_dixon_sag_F", ImageType=["DERIVED", "PRIMARY", "DIXON", "FAT"]), "sagittal",
     {"weighting": "T2", "dixon": "fat", "fat_suppressed": False}),
    ("siemens", mr("t1_tse_dixon_sag_in", ImageType=ORIGINAL), "sagittal",
     {"weighting": "T1", "dixon": "in-phase"}),
    ("siemens", mr("t1_tse_dixon_sag_opp", ImageType=ORIGINAL), "sagittal",
     {"weighting": "T1", "dixon": "opposed-phase"}),
    ("siemens", mr("ep2d_diff_b50_800_tra_TRACEW", SequenceName="*ep_b800t", ScanningSequence="EP"), "axial",
     {"weighting": "DWI", "role": "image"}),
    ("siemens", mr("ep2d_diff_b50_800_tra_ADC", ImageType=["DERIVED", "PRIMARY", "DIFFUSION", "ADC"]), "axial",
     {"weighting": "ADC", "role": "map"}),
    ("siemens", mr("localizer", SequenceName="*fl2d1", ScanningSequence="GR", ImageType=ORIGINAL), "sagittal",
     {"role": "localizer"}),
    ("siemens", mr("AAHead_Scout_32ch-head-coil", ImageType=ORIGINAL), "sagittal", {"role": "localizer"}),
    ("siemens", mr("t2_tse_sag MPR", ImageType=["DERIVED", "SECONDARY", "MPR"]), "coronal",
     {"weighting": "T2", "role": "reformat"}),
    # -- GE MR -----------------------------------------------------------------------------------------
    ("ge", mr("Sag T2 FRFSE", EchoTime="102", RepetitionTime="3000", **SE), "sagittal", {"weighting": "T2"}),
    ("ge", mr("Sag T1 FSE", EchoTime="9", RepetitionTime="550", **SE), "sagittal", {"weighting": "T1"}),
    ("ge", mr("Sag STIR", ScanningSequence="IR", InversionTime="150", EchoTime="42", RepetitionTime="3800"),
     "sagittal", {"weighting": "STIR", "fat_suppressed": True}),
    ("ge", mr("Sag T1 FS +C", EchoTime="9", RepetitionTime="600", **SE), "sagittal",
     {"weighting": "T1", "contrast": "post", "fat_suppressed": True}),
    ("ge", mr("Ax T1 post gad", EchoTime="9", RepetitionTime="600"), "axial", {"weighting": "T1", "contrast": "post"}),
    ("ge", mr("WATER: Sag T2 FSE IDEAL"), "sagittal", {"weighting": "T2", "dixon": "water", "fat_suppressed": True}),
    ("ge", mr("FAT: Sag T2 FSE IDEAL"), "sagittal", {"weighting": "T2", "dixon": "fat"}),
    ("ge", mr("InPhase: Ax LAVA-Flex"), "axial", {"weighting": "T1", "dixon": "in-phase"}),
    ("ge", mr("OutPhase: Ax LAVA-Flex"), "axial", {"weighting": "T1", "dixon": "opposed-phase"}),
    ("ge", mr("Ax DWI b800", DiffusionBValue=800.0), "axial", {"weighting": "DWI"}),
    ("ge", mr("3-Plane Loc", ImageType=["ORIGINAL", "PRIMARY", "OTHER"]), "coronal", {"role": "localizer"}),
    ("ge", mr("ASSET Cal"), "coronal", {"role": "calibration"}),
    ("ge", mr("Sag FSE", EchoTime="100", RepetitionTime="4000", **SE), "sagittal", {"weighting": "T2"}),
    ("ge", mr("Ax FSE", EchoTime="30", RepetitionTime="3000", **SE), "axial", {"weighting": "PD"}),
    # -- Philips MR ------------------------------------------------------------------------------------
    ("philips", mr("sT2W_TSE", ProtocolName="WIP sT2W_TSE", **SE), "sagittal", {"weighting": "T2"}),
    ("philips", mr("sT1W_TSE", **SE), "sagittal", {"weighting": "T1"}),
    ("philips", mr("STIR_LONGTR", ScanningSequence="IR", InversionTime="200", EchoTime="60",
                   RepetitionTime="4500"), "sagittal", {"weighting": "STIR"}),
    ("philips", mr("T1W_TSE_GD"), "sagittal", {"weighting": "T1", "contrast": "post"}),
    ("philips", mr("T1W_TSE_pre"), "axial", {"weighting": "T1", "contrast": "pre"}),
    ("philips", mr("sT2W_mDIXON_TSE W"), "sagittal", {"weighting": "T2", "dixon": "water"}),
    ("philips", mr("sT2W_mDIXON_TSE F"), "sagittal", {"weighting": "T2", "dixon": "fat"}),
    ("philips", mr("sT2W_mDIXON_TSE IP"), "sagittal", {"weighting": "T2", "dixon": "in-phase"}),
    ("philips", mr("sT2W_mDIXON_TSE OP"), "sagittal", {"weighting": "T2", "dixon": "opposed-phase"}),
    ("philips", mr("DWI_SSh b1000"), "axial", {"weighting": "DWI"}),
    ("philips", mr("DWI_SSh ADC"), "axial", {"weighting": "ADC", "role": "map"}),
    ("philips", mr("Survey_32ch_HeadCoil"), "sagittal", {"role": "localizer"}),
    ("philips", mr("SENSE_ref"), "axial", {"role": "calibration"}),
    # -- CT --------------------------------------------------------------------------------------------
    ("siemens", ct("Sag 2.0 B70s", "B70s", ImageType=["DERIVED", "SECONDARY", "MPR"]), "sagittal",
     {"kernel": "bone", "role": "reformat", "weighting": None}),
    ("siemens", ct("Thorax 3.0 B31f", "B31f", ImageType=["ORIGINAL", "PRIMARY", "AXIAL"]), "axial",
     {"kernel": "soft", "role": "image"}),
    ("siemens", ct("Spine 1.0 Br64", "Br64"), "axial", {"kernel": "bone"}),
    ("siemens", ct("Lung 1.0 Bl57", "Bl57"), "axial", {"kernel": "lung"}),
    ("siemens", ct("Topogram 0.6 T80f", "T80f", ImageType=["ORIGINAL", "PRIMARY", "LOCALIZER"]), "coronal",
     {"role": "localizer"}),
    ("ge", ct("SAG BONE", "BONE", ImageType=["DERIVED", "SECONDARY", "REFORMATTED", "AVERAGE"]), "sagittal",
     {"kernel": "bone", "role": "reformat"}),
    ("ge", ct("Ax 2.5 STD", "STANDARD"), "axial", {"kernel": "soft"}),
    ("ge", ct("Ax 1.25 spine", "BONEPLUS"), "axial", {"kernel": "bone"}),
    ("ge", ct("Scout", ImageType=["ORIGINAL", "PRIMARY", "LOCALIZER"]), "coronal", {"role": "localizer"}),
    ("ge", ct("Dose Report"), "unknown", {"role": "secondary"}),
    ("philips", ct("Spine 2mm", "YB"), "axial", {"kernel": "soft"}),
    ("philips", ct("Spine Bone 1mm", "YC"), "axial", {"kernel": "bone"}),
    ("philips", ct("Surview"), "coronal", {"role": "localizer"}),
    ("philips", ct("Abdomen C+ venous", "B"), "axial", {"kernel": "soft", "contrast": "post"}),
]


@pytest.mark.parametrize(("vendor", "header", "plane", "expected"), HEADERS,
                         ids=[f"{v}:{h['SeriesDescription']}" for v, h, _, _ in HEADERS])
def test_vendor_naming(vendor: str, header: dict, plane: str, expected: dict) -> None:
    c = classify_header(header, plane=plane, image_count=20)
    assert c.plane == plane
    for key, value in expected.items():
        assert getattr(c, key) == value, (key, c)
    assert c.evidence or c.weighting is None  # every answer says where it came from
    assert c.hangable == (c.role in HANGABLE_ROLES)


def test_at_least_thirty_vendor_headers_cover_every_kind() -> None:
    assert len(HEADERS) >= 30
    vendors = {v for v, *_ in HEADERS}
    assert vendors == {"siemens", "ge", "philips"}
    seen = {(e.get("weighting"), e.get("dixon"), e.get("role"), e.get("contrast"), e.get("kernel"))
            for *_, e in HEADERS}
    flat = {x for t in seen for x in t}
    for kind in ("T1", "T2", "STIR", "post", "water", "fat", "in-phase", "opposed-phase", "DWI", "ADC",
                 "localizer", "bone", "soft"):
        assert kind in flat, kind


def test_localisers_scouts_and_captures_never_hang() -> None:
    for _vendor, header, plane, expected in HEADERS:
        c = classify_header(header, plane=plane)
        if expected.get("role") in ("localizer", "calibration", "secondary"):
            assert not c.hangable, header


def test_tri_plane_localiser_split_by_the_scan_is_a_localiser(tmp_path: Path) -> None:
    from tests.dicom_factory import write_series

    uid = "1.2.826.0.1.3680043.8.498.1"
    for name, row, col in (("ax", (1, 0, 0), (0, 1, 0)), ("sag", (0, 1, 0), (0, 0, -1)),
                           ("cor", (1, 0, 0), (0, 0, -1))):
        write_series(tmp_path / name, shape=(3, 16, 16), series_uid=uid, row_dir=row, col_dir=col,
                     modality="MR", description="")
    result = scan_series(tmp_path)
    assert len(result) == 3
    assert {c.role for c in classify_all(result).values()} == {"localizer"}


def test_timing_disagreeing_with_the_name_keeps_the_name_and_says_so() -> None:
    c = classify_header(mr("Sag T2", EchoTime="10", RepetitionTime="500", **SE), plane="sagittal")
    assert c.weighting == "T2"
    assert any("looks T1" in e for e in c.evidence)


def test_levels_and_post_op_are_not_weightings_or_contrast() -> None:
    c = classify_header(mr("Sag T2 C7-T1 post-op"), plane="sagittal")
    assert (c.weighting, c.contrast) == ("T2", "none")
    c = classify_header(mr("Ax T2 T10-L2"), plane="axial")
    assert c.weighting == "T2"
    c = classify_header(mr("sag T2 dixon W post op"), plane="sagittal")
    assert c.dixon == "water"  # "op" of post-op is not an opposed-phase image
    c = classify_header(mr("T2 fat sat"), plane="sagittal")
    assert c.dixon is None and c.fat_suppressed


@pytest.mark.parametrize("header", [
    {"Modality": "MR", "SeriesDescription": "x" * 10_000_000},
    {"Modality": "MR", "EchoTime": "nan", "RepetitionTime": "inf", "InversionTime": "-5"},
    {"Modality": "MR", "EchoTime": "abc", "RepetitionTime": [[["1"]]], "InversionTime": b"\xff\xfe"},
    {"Modality": "MR", "EchoTime": 1e300, "RepetitionTime": 1e300, "DiffusionBValue": float("nan")},
    {"Modality": ["MR", "CT"], "SeriesDescription": ["T2", None, 3], "ImageType": "LOCALIZER\\x"},
    {"Modality": None, "SeriesDescription": object(), "ConvolutionKernel": b"B70f"},
    {"Modality": "CT", "ConvolutionKernel": ["", "\x00\x01"], "ContrastBolusAgent": "\x00"},
    {},
])
def test_hostile_header_values_never_raise(header: dict) -> None:
    c = classify_header(header, plane="sagittal")
    assert c.weighting in (None, "T1", "T2", "PD", "STIR", "FLAIR", "T2*", "DWI", "ADC")
    assert c.role in ("image", "reformat", "map", "localizer", "calibration", "secondary")
    json.dumps(c.as_json())


def test_absurd_timing_values_are_not_trusted() -> None:
    c = classify_header(mr("Sag FSE", EchoTime="-10", RepetitionTime="500", **SE), plane="sagittal")
    assert c.weighting is None
    c = classify_header(mr("Sag FSE", EchoTime="nan", RepetitionTime="500", **SE), plane="sagittal")
    assert c.weighting is None


@pytest.mark.parametrize(("kernel", "kind"), [
    ("B70f", "bone"), ("B60s", "bone"), ("B30f", "soft"), ("B41s", "soft"), ("B45f", "soft"), ("Br40", "soft"),
    ("Br64d", "bone"), ("Bl57", "lung"), ("I70f", "bone"), ("BONE", "bone"), ("BONEPLUS", "bone"),
    ("EDGE", "bone"), ("STANDARD", "soft"), ("SOFT", "soft"), ("LUNG", "lung"), ("DETAIL", None), ("YB", "soft"),
    ("E", "bone"), ("C", None), ("FC30", None), ("", None),
])
def test_kernel_names(kernel: str, kind: str | None) -> None:
    assert kernel_from_name(kernel) == kind


def test_every_sample_series_is_classified_as_generated() -> None:
    """The generator's truth.json says what each sample series is; the classifier must agree."""
    result = scan_series(SAMPLES)
    classes = classify_all(result)
    by_uid = {i.series_uid: classes[i.key] for i in result}
    checked = 0
    for truth_file in sorted(SAMPLES.glob("*/truth.json")):
        for s in json.loads(truth_file.read_text())["series"]:
            c = by_uid[s["series_uid"]]
            assert c.modality == s["modality"]
            assert c.plane == s["orientation"], s["folder"]
            assert c.weighting == s["weighting"], s["folder"]
            assert c.role == "image" and c.contrast == "none" and c.dixon is None
            if c.modality == "CT":
                assert c.kernel == "soft"  # every sample CT is reconstructed with the STANDARD kernel
            checked += 1
    assert checked == len(result) == 15


def test_info_json_reports_each_series_classification() -> None:
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "app.cli", "info", str(SAMPLES / "thoracic_ddlps"), "--json",
                          "--headers-only"], cwd=SAMPLES.parent, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    series = json.loads(out.stdout)["series"]
    got = sorted((s["study_date"], s["plane"], s["weighting"] or "-", s["contrast"], s["role"]) for s in series)
    assert got == sorted([
        ("20240108", "axial", "-", "none", "image"),  # the CT
        ("20240108", "sagittal", "T1", "none", "image"),
        ("20240108", "sagittal", "T2", "none", "image"),
        ("20240108", "axial", "T2", "none", "image"),
        ("20240212", "sagittal", "T2", "none", "image"),
        ("20240212", "axial", "T2", "none", "image"),
        ("20240513", "axial", "-", "none", "image"),  # restaging after chemotherapy: CT and ax T2
        ("20240513", "axial", "T2", "none", "image"),
    ])
    ct = next(s for s in series if s["modality"] == "CT")
    assert ct["classification"]["kernel"] == "soft" and ct["classification"]["evidence"]
