"""A rich synthetic `Case` for the case-file tests (no tests here: imported by tests/test_case_*.py)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np

from imaging.case.model import (
    BilskyAssessment,
    Case,
    Contour,
    Finding,
    LevelInvolvement,
    Measurement,
    MeasurementPlane,
    Patient,
    PlaneSpec,
    Reader,
    ReportData,
    ReportedDimension,
    RoiStatsCache,
    SeriesRef,
    SinsAssessment,
    Study,
    SuggestionReason,
    Treatment,
    VertebralLabel,
)

STUDY_UID = "1.2.826.0.1.3680043.8.498.1"
CT_UID = "1.2.826.0.1.3680043.8.498.2"
MR_UID = "1.2.826.0.1.3680043.8.498.3"
FOR_UID = "1.2.826.0.1.3680043.8.498.4"
T0 = datetime(2024, 3, 1, 9, 30, 0, 123456, tzinfo=UTC)

# Vertebral body centres along a gently kyphotic thoracic spine: T4..T8, 26 mm apart.
LEVEL_Z = {"T4": 130.0, "T5": 104.0, "T6": 78.0, "T7": 52.0, "T8": 26.0}

AXIAL = MeasurementPlane(orientation="axial", normal=(0.0, 0.0, 1.0),
                         geometry=PlaneSpec(origin=(-100.0, -120.0, 78.0), x_dir=(1, 0, 0), y_dir=(0, 1, 0),
                                            x_spacing=0.7, y_spacing=0.7, thickness=2.5))
SAGITTAL = MeasurementPlane(orientation="sagittal", normal=(1.0, 0.0, 0.0))
CORONAL = MeasurementPlane(orientation="coronal", normal=(0.0, 1.0, 0.0))

AWKWARD_LABELS = [
    'lesion, "quoted", with comma',
    "two\nlines\r\nand CRLF",
    "=HYPERLINK(\"http://x\")",
    "+1+1",
    "-5",
    "@SUM(A1)",
    "\ttabbed",
    "Läsion ü 日本",
]


def make_case(n_extra: int = 0) -> Case:
    """A case with every measurement kind, a graded finding with SINS and contours, labels T4-T8."""
    case = Case(case_id="thoracic-demo", created_utc=T0, updated_utc=T0,
                patient=Patient(id="SC-0001", name="Demo^Patient", sex="F", age_years=36),
                report=ReportData(citation="Kögler et al., primary dedifferentiated liposarcoma of the thoracic spine",
                                  doi="10.0000/example", clinical_presentation="back pain, paraparesis",
                                  histology="dedifferentiated liposarcoma", tumour_grade="G3",
                                  primary_site="thoracic spine", levels_reported="T5-T6", bilsky_reported="3",
                                  reported_dimensions=[ReportedDimension(label="residual at T6",
                                                                         dimensions_mm=[17, 9], text="17 x 9 mm")],
                                  treatments=[Treatment(kind="surgery", description="decompression T5-T6",
                                                        timing="day 3")],
                                  outcome="ambulatory", follow_up="12 months",
                                  report_text="Epidural mass T5-T6 with cord compression."),
                studies=[Study(study_instance_uid=STUDY_UID, study_date=date(2024, 2, 28), description="CT spine")],
                series=[SeriesRef(series_instance_uid=CT_UID, study_instance_uid=STUDY_UID, modality="CT",
                                  description="CT, thoracic spine", frame_of_reference_uid=FOR_UID, path_hint="ct"),
                        SeriesRef(series_instance_uid=MR_UID, study_instance_uid=STUDY_UID, modality="MR",
                                  description="=T2 sag", frame_of_reference_uid=FOR_UID, path_hint="mr")],
                readers=[Reader(name="jdoe", role="radiologist", added_utc=T0)])
    for name, z in LEVEL_Z.items():
        case.vertebral_labels.append(VertebralLabel(label=name, centre=(0.0, 10.0 + 0.05 * (z - 78) ** 2 / 26, z),
                                                    series_instance_uid=CT_UID, source="detected", reader="jdoe",
                                                    created_utc=T0))
    f = Finding(label="T5-T6 mass", level_from="T6", level_to="T5", levels_auto=True,
                involvement=[LevelInvolvement(level="T5", sectors=["lamina", "left_pedicle", "epidural"]),
                             LevelInvolvement(level="T6", sectors=["vertebral_body", "right_pedicle"])],
                lesion_type="lipomatous",
                bilsky=BilskyAssessment(grade="3", suggested_grade="2",
                                        suggestion_reasons=[SuggestionReason(name="csf_area", value=1.25, unit="mm2",
                                                                             sentence="CSF 1.3 mm2 around the cord")],
                                        suggestion_summary="cord compressed", suggested_utc=T0, level="T6",
                                        series_instance_uid=CT_UID, sop_instance_uid=CT_UID + ".100", slice_index=40,
                                        reader="jdoe", assessed_utc=T0),
                sins=SinsAssessment(pain="MECHANICAL", bone_lesion="LYTIC", alignment="NORMAL",
                                    collapse="UNDER_50_PERCENT", posterolateral="UNILATERAL"),
                contours=[Contour(kind=k, points=[(0.0 + i, 5.0 + r, 78.0) for i, r in ((0, 0), (r0, 0), (0, r0))],
                                  series_instance_uid=CT_UID, sop_instance_uid=CT_UID + ".100", slice_index=40,
                                  reader="jdoe", created_utc=T0)
                          for i, (k, r0) in enumerate((("canal", 8.0), ("sac", 6.0), ("cord", 4.0), ("tumour", 5.0)))],
                notes="posterior elements of T5", reader="jdoe", created_utc=T0, updated_utc=T0)
    case.findings.append(f)
    f2 = Finding(label="", reader="jdoe", created_utc=T0, updated_utc=T0)
    case.findings.append(f2)

    def add(kind: str, points: list[tuple[float, float, float]], plane: MeasurementPlane = AXIAL, label: str = "",
            finding: Finding | None = f, **kw: object) -> Measurement:
        m = Measurement(kind=kind, points=points, plane=plane, series_instance_uid=CT_UID,
                        sop_instance_uid=CT_UID + ".100" if plane is AXIAL else None,
                        slice_index=40 if plane is AXIAL else None, label=label, reader="jdoe", created_utc=T0,
                        finding_id=finding.id if finding is not None else None, **kw)
        case.measurements.append(m)
        return m

    z = 78.0
    add("bidirectional", [(-10.1, 3.0, z), (12.4, 7.5, z), (1.0, -6.0, z), (0.3, 14.2, z)], label=AWKWARD_LABELS[0],
        finding_dimension=True)
    add("cc_extent", [(0.0, 10.0, 112.3), (1.5, 12.0, 70.05)], plane=SAGITTAL, label=AWKWARD_LABELS[1],
        finding_dimension=True)
    add("length", [(1 / 3, 2 / 3, z), (math.pi, -math.e, z)], label=AWKWARD_LABELS[2])
    add("ellipse_roi", [(0.0, 0.0, z), (8.0, 0.0, z), (0.0, 5.0, z)], label=AWKWARD_LABELS[3],
        stats=RoiStatsCache(mean=-12.5, sd=30.25, min=-100.0, max=60.0, count=250, unit="HU", computed_utc=T0))
    add("polygon_roi", [(0.0, 0.0, z), (10.0, 0.0, z), (10.0, 10.0, z), (0.0, 10.0, z)], label=AWKWARD_LABELS[4],
        stats=RoiStatsCache(mean=40.0, sd=0.0, min=40.0, max=40.0, count=204, unit="HU", computed_utc=T0))
    add("freehand_roi", [(0.0, 0.0, z), (5.0, 1.0, z), (6.0, 6.0, z), (1.0, 5.0, z), (-1.0, 2.0, z)],
        label=AWKWARD_LABELS[5])
    add("angle", [(10.0, 0.0, z), (0.0, 0.0, z), (0.0, 10.0, z)], label=AWKWARD_LABELS[6], finding=None)
    add("cobb", [(-20.0, 5.0, 120.0), (20.0, 5.0, 125.0), (-20.0, 5.0, 40.0), (20.0, 5.0, 33.0)], plane=CORONAL,
        label=AWKWARD_LABELS[7], finding=None)
    add("probe", [(0.0, 0.0, z)], stats=RoiStatsCache(mean=-1000.0, count=1, unit="HU", computed_utc=T0),
        finding=None)
    add("length", [(0.0, 0.0, z), (30.0, 40.0, z)], label="no spacing", finding=f2, pixel_spacing_known=False)
    for i in range(n_extra):
        add("length", [(float(i), 0.0, z), (float(i) + 10.0, 5.0, z)], label=f"extra {i}", finding=f2)
    return Case.model_validate(case.model_dump())


def make_case_with_series(folder: Path, n_extra: int = 0) -> tuple[Case, Path]:
    """:func:`make_case` whose CT series exists as DICOM files in ``folder/ct`` (8 axial slices of 64 x 64,
    0.7 mm pixels, 2.5 mm apart, slice 4 at z = 78 where the axial measurements lie) and whose case file path
    is ``folder/case.spinecase.json`` (not written). Returns the case and that path."""
    import pydicom

    from tests.dicom_factory import write_series

    rng = np.random.default_rng(7)
    values = rng.normal(40, 20, size=(8, 64, 64)).astype(np.int16)
    truth = write_series(folder / "ct", shape=(8, 64, 64), spacing=(0.7, 0.7), slice_gap=2.5,
                         origin=(-20.0, -30.0, 68.0), values=values, description="CT, thoracic spine",
                         patient=("Demo^Patient", "SC-0001"))  # the case's patient
    first = pydicom.dcmread(truth["files"][0], stop_before_pixels=True)
    sop4 = str(pydicom.dcmread(truth["files"][4], stop_before_pixels=True).SOPInstanceUID)
    text = make_case(n_extra).model_dump_json()
    text = text.replace(CT_UID + ".100", sop4).replace(f'"{CT_UID}"', f'"{truth["series_uid"]}"')
    text = text.replace(f'"{STUDY_UID}"', f'"{first.StudyInstanceUID}"').replace(f'"{FOR_UID}"',
                                                                                f'"{first.FrameOfReferenceUID}"')
    text = text.replace('"slice_index":40', '"slice_index":4')
    case = Case.model_validate_json(text)
    return case, folder / "case.spinecase.json"
