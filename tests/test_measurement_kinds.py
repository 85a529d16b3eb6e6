"""The measurement-kind registry (imaging.measurement_kinds): the built-in kinds as specs, and a new kind added
in one module -- this test's own "height ratio" -- working through the model, the editing geometry, the
text, the case file, the CSV and the SR hooks without any other file knowing it."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np
import pytest

from imaging import measure
from imaging.case.analysis import compute_stats, measurement_from_drawing
from imaging.case.export_csv import MEASUREMENT_COLUMNS, measurement_rows, rows_to_csv
from imaging.case.model import Case, Measurement, MeasurementPlane
from imaging.case.store import CaseFileInvalid, dumps_case, load_case, loads_case, save_case
from imaging.coding import local_code
from imaging.geometry import PlaneGeometry
from imaging.measure_edit import (
    KIND_NAMES,
    drawing_problem,
    edit_handle,
    handle_points,
    kind_title,
    value_lines,
    value_text,
)
from imaging.measurement_kinds import (
    BUILTIN_ORDER,
    IconPolyline,
    KindDrawing,
    MeasurementKind,
    PointLike,
    SrGraphic,
    Stroke,
    ValueSpec,
    kind_keys,
    kind_spec,
    register_kind,
    registered_kinds,
    unregister_kind,
)
from imaging.volume import Volume, VolumeMetadata
from tests.test_case_factory import make_case

AXIAL = PlaneGeometry((0.0, 0.0, 10.0), (1, 0, 0), (0, 1, 0), 0.5, 0.5, thickness=1.0)


# -- the built-in kinds -----------------------------------------------------------------------------------------
def test_builtin_kinds_in_toolbar_order_with_unique_keys_and_shortcuts() -> None:
    assert kind_keys()[:len(BUILTIN_ORDER)] == BUILTIN_ORDER == (
        "length", "bidirectional", "ellipse_roi", "polygon_roi", "freehand_roi", "angle", "cobb", "probe", "cc_extent")
    shortcuts = [k.shortcut for k in registered_kinds()]
    assert shortcuts[:9] == ["L", "B", "E", "P", "F", "A", "Shift+A", "V", "X"]
    assert len({s.lower() for s in shortcuts}) == len(shortcuts)
    for k in registered_kinds():
        assert k.name and k.tool_label and f"({k.shortcut})" in k.tooltip and k.icon, k


def test_every_value_a_builtin_kind_gives_has_a_spec() -> None:
    """The values of every measurement of the factory case (every kind, ROIs and probes with statistics)
    are declared by their kind's spec, so the CSV and the SR can name and code them."""
    case = make_case()
    assert {m.kind for m in case.measurements} >= set(BUILTIN_ORDER) - {"freehand_roi"}
    for m in case.measurements:
        spec = kind_spec(m.kind)
        for v in m.values():
            assert spec.value_spec(v.name) is not None, (m.kind, v.name)


def test_an_unknown_kind_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match="unknown measurement kind 'height_ratio'; known kinds: length"):
        Measurement(kind="height_ratio", points=[(0, 0, 0)] * 4,
                    plane=MeasurementPlane(orientation="axial", normal=(0, 0, 1)))
    with pytest.raises(ValueError, match="already registered"):
        register_kind(type(kind_spec("length"))())
    clash = type("Clash", (HeightRatio,), {"shortcut": "l"})
    with pytest.raises(ValueError, match="shortcut 'l' .* length tool's"):
        register_kind(clash())


# -- a new kind in one module: the height ratio of two lengths -----------------------------------------------------
class HeightRatio(MeasurementKind):
    """The ratio of two heights (e.g. a collapsed vertebral body's height over its neighbour's): two segments,
    the ratio of the first length to the second."""

    key = "height_ratio"
    name = "height ratio"
    tool_label = "Height Ratio"
    shortcut = "Shift+R"
    tooltip = "Height ratio (Shift+R): drag the reduced height, then the reference height"
    point_count = (4, 4)
    point_meaning = "[height 1 start, height 1 end, reference start, reference end]"
    value_specs = (ValueSpec("height_ratio", "ratio", "Height ratio",
                             sr_concept=local_code("HEIGHTRATIO", "Height ratio")),
                   ValueSpec("height", "length", "Height", in_sr=False),
                   ValueSpec("reference_height", "length", "Reference height", in_sr=False))
    icon = (IconPolyline(((5, 8), (5, 17))), IconPolyline(((14, 3), (14, 17))))

    def values(self, m: Measurement) -> list[measure.MeasuredValue]:
        p = [np.asarray(q, dtype=np.float64) for q in m.points]
        h = measure.segment_length(p[0], p[1], m.pixel_spacing_known)
        ref = measure.segment_length(p[2], p[3], m.pixel_spacing_known)
        return [measure.MeasuredValue("height_ratio", h.value / ref.value, ""),
                measure.MeasuredValue("height", h.value, h.unit),
                measure.MeasuredValue("reference_height", ref.value, ref.unit)]

    def value_lines(self, m: Measurement, values: Mapping[str, measure.MeasuredValue]) -> list[str]:
        return [f"Ratio {values['height_ratio'].value:.2f}",
                f"{values['height'].text()} / {values['reference_height'].text()}"]

    def distinct_needed(self, index: int) -> bool:
        return index in (1, 3)

    def check_shape(self, points: Sequence[PointLike]) -> None:
        if measure.distance(points[2], points[3]) == 0:
            raise ValueError("the reference height is zero")

    def drawing_problem(self, points: Sequence[PointLike], spacing_known: bool = True) -> str | None:
        if len(points) == 4 and measure.distance(points[0], points[1]) == 0:
            return "The height ratio needs a height of non-zero length."
        return super().drawing_problem(points, spacing_known)

    def drawing(self, points: Sequence[PointLike], complete: bool = True) -> KindDrawing:
        pts = [np.asarray(p, dtype=np.float64) for p in points]
        strokes = [Stroke(np.array(pts[i:i + 2]), end_ticks=True) for i in (0, 2) if len(pts) > i]
        return KindDrawing(tuple(strokes), tuple(pts))

    def sr_coordinates(self, value_name: str, points: Sequence[PointLike]) -> list[SrGraphic]:
        pts = np.asarray(points, dtype=np.float64)
        return [SrGraphic("POLYLINE", pts[0:2]), SrGraphic("POLYLINE", pts[2:4])]


@pytest.fixture
def height_ratio() -> Iterator[MeasurementKind]:
    kind = register_kind(HeightRatio())
    yield kind
    unregister_kind(kind.key)


def ratio_measurement(**kw: object) -> Measurement:
    return Measurement(kind="height_ratio", points=[(0, 0, 10), (0, 15, 10), (20, 0, 10), (20, 20, 10)],
                       plane=MeasurementPlane(orientation="axial", normal=(0, 0, 1)), series_instance_uid="1.2.3",
                       **kw)


def test_a_new_kind_is_one_registered_spec(height_ratio: MeasurementKind, tmp_path: Path) -> None:
    # registry: after the built-in kinds, named everywhere names come from
    assert kind_keys()[-1] == "height_ratio" and KIND_NAMES["height_ratio"] == "height ratio"
    assert kind_title("height_ratio") == "Height ratio" and height_ratio.points_to_place == 4
    # model: validated points, values recomputed at full precision
    m = ratio_measurement(label="T12 collapse")
    assert m.spec is height_ratio
    assert [(v.name, v.unit) for v in m.values()] == [("height_ratio", ""), ("height", "mm"),
                                                       ("reference_height", "mm")]
    assert m.value("height_ratio").value == pytest.approx(0.75)
    with pytest.raises(ValueError, match="needs 4 points"):
        Measurement(kind="height_ratio", points=[(0, 0, 0)] * 3, plane=m.plane)
    with pytest.raises(ValueError, match="reference height is zero"):
        Measurement(kind="height_ratio", points=[(0, 0, 0), (0, 1, 0), (2, 2, 0), (2, 2, 0)], plane=m.plane)
    with pytest.raises(ValueError, match="no voxel statistics"):
        ratio_measurement(stats={"mean": 1.0, "count": 1})
    # text beside it and in the list
    assert value_lines(m) == ["Ratio 0.75", "15.0 mm / 20.0 mm"]
    assert value_text(m) == "Ratio 0.75;  15.0 mm / 20.0 mm"
    # drawing and editing geometry
    assert drawing_problem("height_ratio", [(0, 0, 0), (0, 0, 0), (1, 0, 0), (1, 5, 0)]) == \
        "The height ratio needs a height of non-zero length."
    assert drawing_problem("height_ratio", m.points) is None
    assert len(handle_points("height_ratio", m.points)) == 4
    moved = edit_handle("height_ratio", m.points, 1, (0, 10, 10), (0, 0, 1))
    np.testing.assert_allclose(moved[1], (0, 10, 10))
    drawing = height_ratio.drawing(m.points)
    assert [len(s.points) for s in drawing.strokes] == [2, 2] and all(s.end_ticks for s in drawing.strokes)
    # a tool's display points become the measurement, as the viewer builds it (no voxel statistics)
    vol = Volume(np.zeros((3, 40, 40), dtype=np.int16), np.diag([0.5, 0.5, 1.0, 1.0]), "CT",
                 VolumeMetadata(series_instance_uid="1.2.3"))
    placed = [(0, 0), (0, 30), (40, 0), (40, 40)]  # display pixels of 0.5 mm
    drawn = measurement_from_drawing("height_ratio", height_ratio.build_points(AXIAL, placed), vol, AXIAL,
                                     orientation="axial", slice_index=0)
    assert drawn.value("height_ratio").value == pytest.approx(0.75) and drawn.stats is None
    assert compute_stats(drawn, vol) is None
    # the case file keeps it, and a file holding a kind this build does not know is refused clearly
    case = Case()
    case.add(m, who="jdoe")
    path = save_case(case, tmp_path / "ratio.spinecase.json")
    assert load_case(path).measurements == case.measurements
    text = dumps_case(case)
    unregister_kind("height_ratio")
    with pytest.raises(CaseFileInvalid, match="unknown measurement kind 'height_ratio'"):
        loads_case(text)
    register_kind(height_ratio)
    # CSV: one row per value, named by the spec's rule
    rows = list(csv.DictReader(io.StringIO(rows_to_csv(measurement_rows(case), MEASUREMENT_COLUMNS))))
    assert [r["measurement_type"] for r in rows] == ["height_ratio", "height_ratio.height",
                                                     "height_ratio.reference_height"]
    assert float(rows[0]["value"]) == pytest.approx(0.75) and rows[1]["unit"] == "mm"
    # SR hooks: the coded values and their coordinates
    sr = height_ratio.sr_values(m.values())
    assert [(spec.name, spec.sr_concept.value) for spec, _ in sr] == [("height_ratio", "HEIGHTRATIO")]
    assert [g.graphic_type for g in height_ratio.sr_coordinates("height_ratio", m.points)] == ["POLYLINE"] * 2
    assert height_ratio.sr_region(m.points) is None  # not a planar ROI
