"""The DICOM and CSV exports go through the registries: a measurement kind and a case-level score that other
modules register (this test's height ratio and revised Tokuhashi score, from tests/test_measurement_kinds.py
and tests/test_scores.py) appear in the SR -- which still validates and which OHIF still hydrates -- and in
the CSVs, and the kind comes back from the SR; a kind the SR cannot encode never fails the whole SR; key
images draw each kind's own strokes."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pydicom
import pytest

from imaging.case.export_csv import (
    MEASUREMENT_COLUMNS,
    finding_columns,
    finding_rows,
    measurement_rows,
    rows_to_csv,
    write_findings_csv,
)
from imaging.case.export_sr import build_sr, write_sr
from imaging.case.keyimage import measurement_overlays
from imaging.case.model import Assessment, Case, Finding, Measurement, MeasurementPlane
from imaging.case.sources import series_headers
from imaging.case.sr_import import SeriesLookup, import_sr
from imaging.measurement_kinds import (
    MeasurementKind,
    Points,
    SrGraphic,
    kind_spec,
    register_kind,
    unregister_kind,
)
from imaging.scores import ScoreSpec, register_score, unregister_score
from tests.interop_helpers import dciodvfy_errors, dsrdump, hydrate
from tests.test_case_factory import make_case_with_series
from tests.test_measurement_kinds import HeightRatio
from tests.test_scores import ANSWERS, Tokuhashi

TOL_MM = 1e-3


@pytest.fixture
def extensions() -> Iterator[tuple[MeasurementKind, ScoreSpec]]:
    kind, score = register_kind(HeightRatio()), register_score(Tokuhashi())
    yield kind, score
    unregister_kind(kind.key)
    unregister_score(score.key)


def _with_ratio_and_score(tmp_path: Path) -> tuple[Case, Path, Measurement]:
    """The factory case on real CT files, plus a height ratio on image 4 (z = 78 mm) of the finding and the
    case's Tokuhashi answers (total 14)."""
    case, case_path = make_case_with_series(tmp_path / "case")
    ct = next(s for s in case.series if s.modality == "CT")
    sop4 = str(series_headers(case_path, ct)[4].SOPInstanceUID)
    ratio = Measurement(kind="height_ratio", points=[(0, -20, 78), (0, -5, 78), (10, -20, 78), (10, 0, 78)],
                        plane=MeasurementPlane(orientation="axial", normal=(0, 0, 1)),
                        series_instance_uid=ct.series_instance_uid, sop_instance_uid=sop4, slice_index=4,
                        finding_id=case.findings[0].id, label="T6 height")
    case.add(ratio, who="test")
    case.set_assessment("tokuhashi", Assessment(score="tokuhashi", answers=ANSWERS, reader="jdoe"), who="test")
    return case, case_path, ratio


def _items(ds: pydicom.Dataset, container: str) -> dict[str, object]:
    """{concept code value: numeric value or code value} of a root container's items."""
    out: dict[str, object] = {}
    for c in ds.ContentSequence:
        if c.ConceptNameCodeSequence[0].CodeValue == container:
            for i in c.ContentSequence:
                key = i.ConceptNameCodeSequence[0].CodeValue
                out[key] = (float(i.MeasuredValueSequence[0].NumericValue) if i.ValueType == "NUM"
                            else i.ConceptCodeSequence[0].CodeValue)
    return out


def test_a_registered_kind_and_case_score_reach_the_sr_and_the_csvs_and_come_back(
        extensions: tuple[MeasurementKind, ScoreSpec], tmp_path: Path) -> None:
    case, case_path, ratio = _with_ratio_and_score(tmp_path)
    export = write_sr(case, case_path, tmp_path / "sr.dcm")
    assert ratio.id not in export.skipped and len(export.paths) == 1
    path = export.paths[0]
    assert dciodvfy_errors(path) == []
    assert not [ln for ln in dsrdump(path).splitlines() if ln.startswith(("E:", "W:"))
                and "character set" not in ln.lower()]
    ds = pydicom.dcmread(path)
    # the kind's own group: its tracking identifier, its coded value, the SCOORD3D of both heights
    container = next(c for c in ds.ContentSequence if c.ConceptNameCodeSequence[0].CodeValue == "126010")
    group = next(g for g in container.ContentSequence
                 if any(i.ConceptNameCodeSequence[0].CodeValue == "112039" and i.TextValue == "SpineCase:height_ratio"
                        for i in g.ContentSequence))
    (num,) = [i for i in group.ContentSequence if i.ValueType == "NUM"]
    assert num.ConceptNameCodeSequence[0].CodeValue == "HEIGHTRATIO"
    assert float(num.MeasuredValueSequence[0].NumericValue) == pytest.approx(0.75)
    assert num.MeasuredValueSequence[0].MeasurementUnitsCodeSequence[0].CodeValue == "1"  # a ratio: no unit
    coords = [c for c in num.ContentSequence if c.ValueType == "SCOORD3D"]
    assert [c.GraphicType for c in coords] == ["POLYLINE", "POLYLINE"]
    # the case-level score in TID 1500's Derived Imaging Measurements; the finding scores in their group
    assert _items(ds, "126011") == {"TOKUHASHI": 14.0}
    finding_group = next(g for g in container.ContentSequence
                         if any(i.ConceptNameCodeSequence[0].CodeValue == "112039"
                                and i.TextValue.startswith("SpineCase finding") for i in g.ContentSequence))
    assert "BILSKY" in {i.ConceptNameCodeSequence[0].CodeValue for i in finding_group.ContentSequence}
    # OHIF still hydrates every Cornerstone3D group (the new kind's group and the container do not disturb it)
    headers = series_headers(case_path, next(s for s in case.series if s.modality == "CT"))
    (ohif,) = hydrate([path], headers, tmp_path)
    tools = [g for g in ohif["groups"] if g["trackingIdentifier"].startswith("Cornerstone3DTools")]
    assert len(ohif["hydrated"]) == len(tools) == len([m for m in case.measurements if m.id not in export.skipped]) - 1
    # back into a new case: the height ratio on its image, in its finding; the case-level score is listed
    new = Case()
    result = import_sr(export.paths, new, SeriesLookup.from_headers(headers))
    back = next(m for m in result.measurements if m.kind == "height_ratio")
    assert np.max(np.abs(np.asarray(back.points) - np.asarray(ratio.points))) <= TOL_MM
    assert (back.sop_instance_uid, back.finding_id, back.label) == (ratio.sop_instance_uid, ratio.finding_id,
                                                                     "T6 height")
    assert back.value("height_ratio").value == pytest.approx(0.75)
    assert [(n.what, n.reason[:20]) for n in result.not_placed] == [("Revised Tokuhashi score total = 14.0",
                                                                     "a case-level assessm")]
    # CSVs: the kind's values by its spec; the case-level score on every finding's row
    rows = [r for r in measurement_rows(case) if r["measurement_id"] == ratio.id]
    assert [(r["measurement_type"], r["value_name"]) for r in rows] == [
        ("height_ratio", "height_ratio"), ("height_ratio", "height"), ("height_ratio", "reference_height")]
    assert "measurement_type" in MEASUREMENT_COLUMNS
    assert finding_columns()[-1] == "tokuhashi_total"
    with open(write_findings_csv(case, tmp_path / "f.csv"), encoding="utf-8", newline="") as fh:
        got = list(csv.DictReader(fh))
    assert [r["tokuhashi_total"] for r in got] == ["14"] * len(case.findings)
    assert [r["tokuhashi_total"] for r in finding_rows(case)] == [14] * len(case.findings)


class _BrokenKind(HeightRatio):
    """A kind whose SR coordinates cannot be made (a plug-in's bug)."""

    key = "broken_ratio"
    name = "broken ratio"
    tool_label = "Broken Ratio"
    shortcut = "Shift+J"

    def sr_coordinates(self, value_name: str, points: Points) -> list[SrGraphic]:
        raise RuntimeError("no coordinates today")


class _UncodedKind(HeightRatio):
    """A kind none of whose values has an SR concept."""

    key = "uncoded_ratio"
    name = "uncoded ratio"
    tool_label = "Uncoded Ratio"
    shortcut = "Shift+K"
    value_specs = tuple(v.__class__(v.name, v.dimension, v.title, in_sr=False) for v in HeightRatio.value_specs)


def test_a_kind_the_sr_cannot_encode_is_left_out_with_its_reason(tmp_path: Path) -> None:
    kinds = [register_kind(k()) for k in (HeightRatio, _BrokenKind, _UncodedKind)]
    try:
        case, case_path = make_case_with_series(tmp_path / "case")
        ct = next(s for s in case.series if s.modality == "CT")
        added = {}
        for k in kinds:
            m = Measurement(kind=k.key, points=[(0, -20, 78), (0, -5, 78), (10, -20, 78), (10, 0, 78)],
                            plane=MeasurementPlane(orientation="axial", normal=(0, 0, 1)),
                            series_instance_uid=ct.series_instance_uid)
            case.add(m, who="test")
            added[k.key] = m.id
        unregister_kind("height_ratio")  # a plug-in missing from this build: its measurements are still in the case
        export = build_sr(case, case_path)
    finally:
        for k in kinds:
            unregister_kind(k.key)
    assert "'height_ratio' is not registered" in export.skipped[added["height_ratio"]]
    assert "RuntimeError: no coordinates today" in export.skipped[added["broken_ratio"]]
    assert "no value the SR can code" in export.skipped[added["uncoded_ratio"]]
    written = {i for d in export.documents for i in d.measurement_ids}
    assert written == {m.id for m in case.measurements if m.id not in added.values() and m.id not in export.skipped}
    assert written  # the others are in the SR (checked against the real readers in tests/test_interop_sr.py)


def test_key_images_draw_each_kinds_own_strokes() -> None:
    colour = (255, 0, 0)
    pts = [(0.0, 0.0, 0.0), (0.0, 10.0, 0.0), (5.0, 0.0, 0.0), (5.0, 12.0, 0.0)]
    cobb = measurement_overlays("cobb", pts, colour, "1")
    assert len(kind_spec("cobb").drawing(pts).strokes) == 3 and len(cobb) == 2  # its dashed construction line: not
    assert cobb[0].tag == "1" and cobb[1].tag == ""
    ellipse = measurement_overlays("ellipse_roi", [(0, 0, 0), (10, 0, 0), (0, 5, 0)], colour)
    assert len(ellipse) == 1 and ellipse[0].closed and len(ellipse[0].points) > 10
    (probe,) = measurement_overlays("probe", [(1.0, 2.0, 3.0)], colour, "2")
    assert probe.points.shape == (1, 3) and probe.tag == "2"  # the marker, drawn as a dot
    kind = register_kind(HeightRatio())
    try:
        assert [len(o.points) for o in measurement_overlays("height_ratio", pts, colour)] == [2, 2]
    finally:
        unregister_kind(kind.key)
    # a kind this build does not know: a polyline through its points, never an error
    (unknown,) = measurement_overlays("height_ratio", pts, colour)
    assert unknown.points.shape == (4, 3)


def test_csv_of_a_registered_score_is_numeric_and_blank_when_unanswered(
        extensions: tuple[MeasurementKind, ScoreSpec]) -> None:
    case = Case()
    case.add(Finding(label="L1"), who="test")
    text = rows_to_csv(finding_rows(case), finding_columns())
    (row,) = csv.DictReader(io.StringIO(text))
    assert row["tokuhashi_total"] == ""  # not answered
    case.set_assessment("tokuhashi", Assessment(score="tokuhashi", answers={**ANSWERS, "palsy": 0}), who="test")
    (row,) = csv.DictReader(io.StringIO(rows_to_csv(finding_rows(case), finding_columns())))
    assert row["tokuhashi_total"] == "12"
