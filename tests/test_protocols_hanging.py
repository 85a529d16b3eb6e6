"""Hanging protocols (Qt-free): the shipped protocols as data, the reader's own file, and which series each
pane gets -- on the sample studies and on studies written here (vendor naming, localisers, priors, MR + CT)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from imaging import scan_series
from imaging.dicom.series import FrameRef, SeriesInfo
from imaging.protocols import classify_all
from imaging.protocols.hanging import best_study_for, choose_hanging, fill_layout, hang, slice_spacing
from imaging.protocols.protocol import (
    HangingProtocol,
    ProtocolError,
    load_protocol_file,
    load_protocols,
    shipped_protocols,
    unique_id,
    write_protocol_file,
)

SAMPLES = Path(__file__).resolve().parents[1] / "sample_dicoms"
SAG = (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)
AX = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
COR = (1.0, 0.0, 0.0, 0.0, 0.0, -1.0)


@pytest.fixture(scope="module")
def thoracic() -> tuple[list[SeriesInfo], dict]:
    series = list(scan_series(SAMPLES / "thoracic_ddlps"))
    return series, classify_all(series)


def by_id(pid: str) -> HangingProtocol:
    return next(p for p in shipped_protocols() if p.id == pid)


def describe(series: list[SeriesInfo], h) -> list[tuple[str, str, str | None, bool]]:  # noqa: ANN001
    info = {s.key: s for s in series}
    return [(p.label, p.orientation, info[p.series_key].description if p.series_key else None, p.reformat)
            for p in h.panes]


_counter = iter(range(1, 10_000))


def series_info(description: str, orientation: tuple, *, study: str = "S1", date: str = "20240101",
                modality: str = "MR", images: int = 20, patient: str = "P1", frame: str = "F1",
                spacing_mm: float = 4.0, pixel_mm: float = 0.7, **header: object) -> SeriesInfo:
    """A scanned series without files (the hanging reads headers and geometry only)."""
    n = next(_counter)
    import numpy as np

    normal = np.cross(orientation[:3], orientation[3:])
    frames = [FrameRef(path=Path(f"/nowhere/{n}/{k}.dcm"), position=tuple(float(v) for v in normal * k * spacing_mm),
                       orientation=orientation, pixel_spacing=(pixel_mm, pixel_mm)) for k in range(images)]
    return SeriesInfo(series_uid=f"2.25.{n}", study_uid=study, modality=modality, description=description,
                      files=[f.path for f in frames], patient_id=patient, study_date=date, series_number=n,
                      rows=256, columns=256, orientation=orientation, pixel_spacing=(pixel_mm, pixel_mm),
                      frame_of_reference_uid=frame, frames=frames,
                      header={"Modality": modality, "SeriesDescription": description, **header})


# -- data -------------------------------------------------------------------------------------------------
def test_shipped_protocols_are_valid_data_with_keys() -> None:
    protocols = shipped_protocols()
    ids = [p.id for p in protocols]
    assert {"spine-mr", "spine-ct", "spine-mr-ct", "compare-mr", "compare-ct"} <= set(ids)
    shortcuts = [p.shortcut for p in protocols if p.shortcut]
    assert len(shortcuts) == len(set(shortcuts)) == len(protocols)
    assert all(p.source == "shipped" for p in protocols)


@pytest.mark.parametrize(("text", "reason"), [
    ("{", "not valid JSON"),
    ('{"format": "x", "version": 1, "protocols": []}', "format"),
    ('{"format": "spinecase-hanging-protocols", "version": 1, "protocols": [{"id": "A b", "name": "x", '
     '"layout": "1x1", "panes": [{"orientation": "axial", "series": [{}]}]}]}', "id"),
    ('{"format": "spinecase-hanging-protocols", "version": 1, "protocols": [{"id": "a", "name": "x", '
     '"layout": "1x2", "panes": [{"orientation": "axial", "series": [{}]}]}]}', "2 view"),
    ('{"format": "spinecase-hanging-protocols", "version": 1, "protocols": [{"id": "a", "name": "x", '
     '"layout": "1x1", "panes": [{"orientation": "axial", "series": [{"roles": ["localizer"]}]}]}]}', "never hung"),
    ('{"format": "spinecase-hanging-protocols", "version": 1, "protocols": [{"id": "a", "name": "x", '
     '"layout": "1x1", "panes": [{"orientation": "axial", "series": [{"weighting": ["T3"]}]}]}]}', "T3"),
])
def test_bad_protocol_files_name_the_file_and_the_reason(tmp_path: Path, text: str, reason: str) -> None:
    f = tmp_path / "hanging_protocols.json"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ProtocolError) as exc:
        load_protocol_file(f)
    assert str(f) in str(exc.value) and reason in str(exc.value)
    protocols, problems = load_protocols(f)  # the shipped ones still load; the problem is reported
    assert [p.id for p in protocols] == [p.id for p in shipped_protocols()]
    assert problems and str(f) in problems[0]
    with pytest.raises(ProtocolError):  # never overwritten: the reader fixes (or moves) it first
        write_protocol_file(f, [by_id("spine-mr").model_copy(update={"source": "user", "id": "mine"})])
    assert f.read_text(encoding="utf-8") == text


def test_reader_protocols_round_trip_and_replace_shipped_ids(tmp_path: Path) -> None:
    f = tmp_path / "sub" / "hanging_protocols.json"
    mine = by_id("spine-mr").model_copy(update={"source": "user", "id": "my-spine", "name": "Mine",
                                                "shortcut": "Ctrl+6"})
    override = by_id("spine-ct").model_copy(update={"source": "user", "name": "CT my way"})
    write_protocol_file(f, [*shipped_protocols(), mine, override])
    data = json.loads(f.read_text(encoding="utf-8"))
    assert [p["id"] for p in data["protocols"]] == ["my-spine", "spine-ct"]  # only the reader's are written
    protocols, problems = load_protocols(f)
    assert problems == []
    names = {p.id: (p.name, p.source) for p in protocols}
    assert names["spine-ct"] == ("CT my way", "user")
    assert names["my-spine"] == ("Mine", "user")
    assert unique_id("My spine!", ["my-spine"]) == "my-spine-2"


# -- hanging the sample studies -----------------------------------------------------------------------------
def test_thoracic_folder_hangs_the_pre_operative_mr_sag_t2_sag_t1_ax_t2(thoracic) -> None:  # noqa: ANN001
    series, classes = thoracic
    h = choose_hanging(shipped_protocols(), series, classes)
    assert h is not None and h.protocol.id == "spine-mr" and h.study_date == "20240108"
    assert describe(series, h) == [("sag T2", "sagittal", "Sag T2 TSE", False),
                                   ("sag T1", "sagittal", "Sag T1 TSE", False),
                                   ("ax T2", "axial", "Ax T2 TSE", False)]


def test_every_shipped_protocol_on_the_thoracic_case(thoracic) -> None:  # noqa: ANN001
    series, classes = thoracic
    ct = best_study_for(by_id("spine-ct"), series, classes)  # the latest CT: the restaging CT
    assert ct.study_date == "20240513"
    assert describe(series, ct) == [("sag", "sagittal", "Ax 2.5mm Spine", True),
                                     ("ax", "axial", "Ax 2.5mm Spine", False),
                                     ("cor", "coronal", "Ax 2.5mm Spine", True)]
    assert {p.window for p in ct.panes} == {"Bone"}
    both = best_study_for(by_id("spine-mr-ct"), series, classes)
    assert describe(series, both) == [("MR sag T2", "sagittal", "Sag T2 TSE", False),
                                      ("CT sag", "sagittal", "Ax 1.25mm Spine", True)]
    assert both.study_date == "20240108"
    # comparison: from either study, the later (post-operative) study is "current", the earlier the prior
    mr_studies = {s.study_date: s.study_uid for s in series if s.modality == "MR"}
    for start in mr_studies.values():
        cmp = best_study_for(by_id("compare-mr"), series, classes, start)
        assert cmp.fits and cmp.study_date == "20240212" and cmp.prior_study_uid == mr_studies["20240108"]
        dates = [next(s.study_date for s in series if s.key == p.series_key) for p in cmp.panes]
        assert dates == ["20240212", "20240108", "20240212", "20240108"]
    # CT comparison: the restaging CT is "current", the pre-operative CT its prior
    cmp_ct = best_study_for(by_id("compare-ct"), series, classes)
    assert cmp_ct.fits and cmp_ct.study_date == "20240513"
    assert [next(s.study_date for s in series if s.key == p.series_key) for p in cmp_ct.panes] == ["20240513",
                                                                                                  "20240108"]


def test_every_sample_case_hangs_something_and_never_a_localiser() -> None:
    series = list(scan_series(SAMPLES))
    classes = classify_all(series)
    for case in sorted(p.name for p in SAMPLES.iterdir() if p.is_dir()):
        members = [s for s in series if str(s.files[0]).startswith(str(SAMPLES / case))]
        h = choose_hanging(shipped_protocols(), members, classes)
        assert h is not None and h.fits, case
        expected = "spine-mr" if any(s.modality == "MR" for s in members) else "spine-ct"
        assert h.protocol.id == expected, case


# -- hanging studies written here ---------------------------------------------------------------------------
def siemens_spine_mr(study: str = "S1", date: str = "20240101", frame: str = "F1") -> list[SeriesInfo]:
    return [
        series_info("localizer", SAG, study=study, date=date, frame=frame, images=3),
        series_info("localizer", AX, study=study, date=date, frame=frame, images=3),
        series_info("t2_tse_sag_384", SAG, study=study, date=date, frame=frame, images=15, EchoTime="96",
                    RepetitionTime="3500"),
        series_info("t1_tse_sag", SAG, study=study, date=date, frame=frame, images=15),
        series_info("t2_tirm_sag", SAG, study=study, date=date, frame=frame, images=15),
        series_info("t2_tse_tra_384", AX, study=study, date=date, frame=frame, images=30, spacing_mm=4.0),
        series_info("t1_tse_sag_fs_post", SAG, study=study, date=date, frame=frame, ContrastBolusAgent="Gd"),
        series_info("ep2d_diff_b50_800_tra_TRACEW", AX, study=study, date=date, frame=frame),
        series_info("ep2d_diff_b50_800_tra_ADC", AX, study=study, date=date, frame=frame),
    ]


def test_spine_mr_prefers_plain_t2_t1_and_the_axial_t2_and_never_a_localiser() -> None:
    series = siemens_spine_mr()
    classes = classify_all(series)
    h = choose_hanging(shipped_protocols(), series, classes)
    assert [d for _, _, d, _ in describe(series, h)] == ["t2_tse_sag_384", "t1_tse_sag", "t2_tse_tra_384"]
    # without the plain T2 the STIR takes the first pane; without any axial the sag T2 is reformatted
    no_t2 = [s for s in series if s.description not in ("t2_tse_sag_384", "t2_tse_tra_384")]
    h = choose_hanging(shipped_protocols(), no_t2, classify_all(no_t2))
    assert describe(no_t2, h)[0][2] == "t2_tirm_sag"
    # a real axial image beats a reformat (never a parametric map: the ADC stays out)
    assert describe(no_t2, h)[2] == ("ax T2", "axial", "ep2d_diff_b50_800_tra_TRACEW", False)
    only_sag = [s for s in series if s.orientation == SAG and s.description != "localizer"]
    h = choose_hanging(shipped_protocols(), only_sag, classify_all(only_sag))
    assert describe(only_sag, h)[2] == ("ax T2", "axial", "t2_tse_sag_384", True)
    only_localisers = [s for s in series if s.description == "localizer"]
    assert choose_hanging(shipped_protocols(), only_localisers, classify_all(only_localisers)) is None


def test_missing_optional_pane_says_what_is_missing() -> None:
    series = [s for s in siemens_spine_mr() if "t1" not in s.description]
    h = hang(by_id("spine-mr"), series, classify_all(series), "S1")
    assert h.fits and h.panes[1].series_key is None
    assert h.panes[1].missing == "no sag T1 series in the study of 2024-01-01"


def test_prior_comparison_and_same_date_partner() -> None:
    current = siemens_spine_mr("NEW", "20240601", "F-new")
    prior = siemens_spine_mr("OLD", "20231201", "F-old")
    older = siemens_spine_mr("OLDER", "20220101", "F-older")
    other_patient = [series_info("Sag T2", SAG, study="X", date="20240301", patient="P2")]
    ct = [series_info("Ax 1.25mm Spine", AX, study="CT", date="20240601", modality="CT", frame="F-ct",
                      images=200, spacing_mm=1.0, ConvolutionKernel="B70f")]
    series = current + prior + older + other_patient + ct
    classes = classify_all(series)
    cmp = best_study_for(by_id("compare-mr"), series, classes, "NEW")
    assert cmp.study_uid == "NEW" and cmp.prior_study_uid == "OLD"  # the most recent earlier study
    cmp = best_study_for(by_id("compare-mr"), series, classes, "OLDER")
    assert cmp.study_uid == "OLD" and cmp.prior_study_uid == "OLDER"  # the later one is "current"
    pair = best_study_for(by_id("spine-mr-ct"), series, classes, "NEW")
    assert pair.study_uid == "NEW" and pair.same_date_study_uid == "CT"
    assert describe(series, pair)[1] == ("CT sag", "sagittal", "Ax 1.25mm Spine", True)
    ct_h = best_study_for(by_id("spine-ct"), series, classes, "NEW")  # asked for CT while an MR is shown
    assert ct_h.study_uid == "CT" and classes[ct_h.panes[0].series_key].kernel == "bone"


def test_remembered_protocol_wins_when_it_fits() -> None:
    series = siemens_spine_mr("NEW", "20240601") + siemens_spine_mr("OLD", "20231201")
    classes = classify_all(series)
    assert choose_hanging(shipped_protocols(), series, classes).protocol.id == "spine-mr"
    h = choose_hanging(shipped_protocols(), series, classes, remembered=[("GONE", "spine-ct"),
                                                                         ("OLD", "compare-mr")])
    assert h.protocol.id == "compare-mr" and h.study_uid == "NEW"
    h = choose_hanging(shipped_protocols(), series, classes, remembered=[("NEW", "spine-ct")])
    assert h.protocol.id == "spine-mr"  # a remembered protocol that does not fit is not forced


def test_fill_layout_shows_the_real_axial_never_a_thick_reformat() -> None:
    series = siemens_spine_mr()
    classes = classify_all(series)
    sag_t2 = next(s for s in series if s.description == "t2_tse_sag_384")
    fills = fill_layout(["sagittal", "axial", "coronal"], sag_t2, series, classes)
    info = {s.key: s.description for s in series}
    assert [(f.orientation, info[f.series_key], f.reformat) for f in fills] == [
        ("sagittal", "t2_tse_sag_384", False), ("axial", "t2_tse_tra_384", False),
        ("coronal", "t2_tse_sag_384", True)]
    # another frame of reference (a second table position) is not "the same anatomy at the same coordinates"
    moved = [s if s.orientation != AX else series_info("t2_tse_tra", AX, frame="F2") for s in series]
    fills = fill_layout(["sagittal", "axial", "coronal"], sag_t2, moved, classify_all(moved))
    assert fills[1].series_key == sag_t2.key and fills[1].reformat
    # a thin, near-isotropic CT reformats: its own sagittal beats a scanner reformat series
    ct = series_info("Ax 1mm", AX, modality="CT", images=100, spacing_mm=1.0, pixel_mm=0.8)
    ct_sag = series_info("Sag bone MPR", SAG, modality="CT", images=100, ImageType=["DERIVED", "SECONDARY", "MPR"])
    fills = fill_layout(["sagittal", "axial", "coronal"], ct, [ct, ct_sag], classify_all([ct, ct_sag]))
    assert [f.series_key for f in fills] == [ct.key] * 3
    assert slice_spacing(ct) == pytest.approx(1.0) and slice_spacing(sag_t2) == pytest.approx(4.0)
