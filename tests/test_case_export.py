"""Tests of the exports: CSV (columns, round trip, formula injection), DICOM SR (dciodvfy, highdicom read back),
HTML report, the `spinecase export` / `spinecase schema` commands, and every sample case when present."""

from __future__ import annotations

import base64
import csv
import json
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import highdicom as hd
import numpy as np
import pytest

from app.cli import main as cli_main
from imaging.case.analysis import lesion_dimensions
from imaging.case.export_csv import (
    FINDING_COLUMNS,
    MEASUREMENT_COLUMNS,
    neutralise,
    rows_to_csv,
    unneutralise,
    write_findings_csv,
    write_measurements_csv,
)
from imaging.case.export_report import build_html_report, write_html_report
from imaging.case.export_sr import LOCAL_SCHEME, build_sr, level_code, write_sr
from imaging.case.keyimage import png_bytes
from imaging.case.model import SCHEMA_VERSION, Case
from imaging.case.schema import case_json_schema_text
from imaging.case.sources import MissingSeries
from imaging.case.store import load_case, save_case
from tests.test_case_factory import AWKWARD_LABELS, make_case, make_case_with_series

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_CASES = sorted((ROOT / "sample_dicoms").glob("*/case.spinecase.json"))
needs_dciodvfy = pytest.mark.skipif(shutil.which("dciodvfy") is None, reason="dciodvfy (dicom3tools) not installed")


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        return header, [dict(zip(header, row, strict=True)) for row in reader]


# -- CSV ------------------------------------------------------------------------------------------------
def check_measurement_csv(case: Case, path: Path) -> None:
    header, rows = read_csv(path)
    assert tuple(header) == MEASUREMENT_COLUMNS
    expected = [(m, v) for m in case.measurements for v in m.values()]
    assert len(rows) == len(expected)
    for row, (m, v) in zip(rows, expected, strict=True):
        assert row["measurement_id"] == m.id
        assert float(row["value"]) == v.value  # full precision: the identical float
        assert row["unit"] == v.unit
        assert unneutralise(row["label"]) == m.label  # commas, quotes, line breaks survive
        assert row["measurement_type"].split(".")[0] == m.kind
        assert [tuple(p) for p in json.loads(row["points_lps"])] == [tuple(p) for p in m.points]
        assert row["case_id"] == case.case_id and unneutralise(row["patient_id"]) == case.patient.id
        assert row["series_instance_uid"] == (m.series_instance_uid or "")
        assert row["sop_instance_uid"] == (m.sop_instance_uid or "")
        assert row["finding_id"] == (m.finding_id or "")
        assert row["plane"] == m.plane.orientation and unneutralise(row["reader"]) == m.reader
        assert row["created_utc"] == m.created_utc.isoformat().replace("+00:00", "Z")
        for col, cell in row.items():
            if col not in ("value", "slice_position_mm") and cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
                pytest.fail(f"formula-like text cell not neutralised: {col}={cell!r}")


def check_finding_csv(case: Case, path: Path) -> None:
    header, rows = read_csv(path)
    assert tuple(header) == FINDING_COLUMNS
    assert [r["finding_id"] for r in rows] == [f.id for f in case.findings]
    for row, f in zip(rows, case.findings, strict=True):
        assert unneutralise(row["finding_label"]) == f.label
        assert row["levels"] == f.levels_text and row["level_from"] == (f.level_from or "")
        assert row["bilsky_grade"] == (f.bilsky.grade or "")
        assert row["bilsky_suggested"] == (f.bilsky.suggested_grade or "")
        score = f.sins_score()
        assert row["sins_total"] == (str(score.total) if score else "")
        dims = lesion_dimensions(case, f.id)
        if dims is not None and dims.unit == "mm":
            assert float(row["long_axis_mm"]) == dims.long_axis and float(row["short_axis_mm"]) == dims.short_axis
            if dims.cc is not None:
                assert float(row["cc_extent_mm"]) == dims.cc and float(row["ellipsoid_volume_ml"]) == dims.volume
        else:
            assert row["long_axis_mm"] == "" and row["ellipsoid_volume_ml"] == ""


def test_measurement_csv_round_trip(tmp_path: Path) -> None:
    case = make_case()
    path = write_measurements_csv(case, tmp_path / "m.csv")
    check_measurement_csv(case, path)
    raw = path.read_bytes()
    assert b"\r\n" in raw and not raw.startswith(b"\xef\xbb\xbf")
    _, rows = read_csv(path)
    labels = {r["label"] for r in rows}
    assert "'=HYPERLINK(\"http://x\")" in labels and "'+1+1" in labels and "'-5" in labels
    assert "'@SUM(A1)" in labels and "'\ttabbed" in labels
    assert 'lesion, "quoted", with comma' in labels and "two\nlines\r\nand CRLF" in labels
    assert "Läsion ü 日本" in labels
    assert any(r["series_description"] == "'=T2 sag" for r in rows) is False  # MR series has no measurement
    # Negative numbers stay numbers.
    means = [r["value"] for r in rows if r["measurement_type"] == "ellipse_roi.mean"]
    assert means == ["-12.5"]
    probe = [r for r in rows if r["measurement_type"] == "probe.value"]
    assert probe[0]["value"] == "-1000.0" and probe[0]["unit"] == "HU"
    kinds = {r["measurement_type"] for r in rows}
    assert {"bidirectional.long_axis", "bidirectional.short_axis", "cc_extent", "cc_extent.length", "length",
            "cobb.cobb_angle", "angle"} <= kinds
    px = [r for r in rows if r["label"] == "no spacing"]
    assert px[0]["unit"] == "px"
    levels = {r["measurement_id"]: r["levels"] for r in rows}
    cc = next(m for m in case.measurements if m.kind == "cc_extent")
    assert levels[cc.id] == "T5-T6"


def test_findings_csv_round_trip(tmp_path: Path) -> None:
    case = make_case()
    path = write_findings_csv(case, tmp_path / "f.csv")
    check_finding_csv(case, path)
    _, rows = read_csv(path)
    first = rows[0]
    assert (first["bilsky_grade"], first["escc_group"], first["sins_total"], first["lesion_type"]) == \
        ("3", "high", "9", "lipomatous")
    assert first["bilsky_sop_instance_uid"].endswith(".100") and first["bilsky_level"] == "T6"
    assert first["sins_category"].startswith("potentially unstable")


def test_neutralise() -> None:
    for text in ("=1+2", "+1", "-cmd", "@x", "\tx", "\rx"):
        assert neutralise(text) == "'" + text and unneutralise(neutralise(text)) == text
    for text in ("abc", "'quoted", "1.5", "", "T5-T6"):
        assert neutralise(text) == text and unneutralise(text) == text
    text = rows_to_csv([{"value": -12.5, "label": "-12.5"}], ("value", "label"))
    assert text == "value,label\r\n-12.5,'-12.5\r\n"


# -- DICOM SR -------------------------------------------------------------------------------------------
def dciodvfy_errors(path: Path) -> list[str]:
    result = subprocess.run(["dciodvfy", str(path)], capture_output=True, timeout=60)
    out = (result.stdout + result.stderr).decode("utf-8", "replace")
    return [line for line in out.splitlines() if line.startswith("Error")]


@needs_dciodvfy
def test_sr_passes_dciodvfy_and_reads_back(tmp_path: Path) -> None:
    case, case_path = make_case_with_series(tmp_path)
    out = tmp_path / "sr.dcm"
    export = write_sr(case, case_path, out)
    assert dciodvfy_errors(out) == []
    check_sr(case, out, export.skipped)
    no_spacing = next(m for m in case.measurements if not m.pixel_spacing_known)
    assert "no pixel spacing" in export.skipped[no_spacing.id]


def check_sr(case: Case, path: Path, skipped: dict[str, str]) -> None:
    sr = hd.sr.srread(path)
    assert sr.SOPClassUID == "1.2.840.10008.5.1.4.1.1.88.34"  # Comprehensive 3D SR
    assert any(item.CodingSchemeDesignator == LOCAL_SCHEME for item in sr.CodingSchemeIdentificationSequence)
    content = sr.content
    groups = content.get_planar_roi_measurement_groups() + content.get_image_measurement_groups()
    by_uid = {str(g.tracking_uid): g for g in groups}
    exported = [m for m in case.measurements if m.id not in skipped]
    for m in exported:
        g = by_uid[f"2.25.{int(m.id, 16)}"]
        got = sorted(round(x.value, 6) for x in g.get_measurements())
        want = sorted(round(v.value, 6) for v in m.values() if v.name != "length" or m.kind != "cc_extent")
        assert got == want, (m.kind, got, want)
    # Instances of the SR's own study are current evidence; those of other studies (a case with CT and MR
    # studies) are pertinent other evidence.
    evidence = [*sr.CurrentRequestedProcedureEvidenceSequence, *getattr(sr, "PertinentOtherEvidenceSequence", [])]
    ref_sops = {str(item.ReferencedSOPInstanceUID) for s in evidence
                for se in s.ReferencedSeriesSequence for item in se.ReferencedSOPSequence}
    for m in exported:
        if m.sop_instance_uid:
            assert m.sop_instance_uid in ref_sops
    graded = [f for f in case.findings if f.bilsky.grade]
    for f in graded:
        g = by_uid[f"2.25.{int(f.id, 16)}"]
        evals = {e.name.value: e.value.value for e in g.get_qualitative_evaluations()}
        assert evals["BILSKY"] == f.bilsky.grade
        sites = [s.value.value for s in g.finding_sites]
        assert sites == [level_code(lv).value for lv in f.level_range.levels]  # type: ignore[union-attr]


def test_sr_bilsky_codes_are_valid_for_every_grade() -> None:
    """Each grade's coded concept is one highdicom accepts (CodeMeaning is LO: at most 64 characters)."""
    import highdicom as hd

    from imaging.case.export_sr import _BILSKY_MEANINGS
    from imaging.spine.bilsky import BILSKY_GRADES

    assert list(_BILSKY_MEANINGS) == list(BILSKY_GRADES)
    for grade, meaning in _BILSKY_MEANINGS.items():
        assert len(meaning) <= 64 and grade in meaning
        hd.sr.CodedConcept(value=f"BILSKY-{grade}", scheme_designator="99SPINECASE", meaning=meaning)


def test_sr_level_codes() -> None:
    assert (level_code("T6").value, level_code("T6").scheme_designator) == ("45296009", "SCT")
    assert level_code("C1").meaning == "C1 vertebra"
    assert level_code("Co").value == "64688005"
    assert level_code("S2").scheme_designator == LOCAL_SCHEME and level_code("T13").scheme_designator == LOCAL_SCHEME


def test_sr_missing_series_is_a_clear_error(tmp_path: Path) -> None:
    case = make_case()
    with pytest.raises(MissingSeries, match=r"cannot find the DICOM files of series .*path hint 'ct'"):
        build_sr(case, tmp_path / "case.spinecase.json")


# -- HTML report ----------------------------------------------------------------------------------------
def decode_png(data: bytes) -> np.ndarray:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, w, h, channels = 8, b"", 0, 0, 1
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        assert zlib.crc32(kind + body) & 0xFFFFFFFF == struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])[0]
        if kind == b"IHDR":
            w, h, _depth, colour = struct.unpack(">IIBB", body[:10])
            channels = {0: 1, 2: 3}[colour]
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(h, 1 + w * channels)
    return raw[:, 1:].reshape(h, w, channels)


def test_png_writer_round_trip() -> None:
    img = np.arange(12 * 7 * 3, dtype=np.uint8).reshape(12, 7, 3)
    assert np.array_equal(decode_png(png_bytes(img)), img)
    grey = np.arange(20, dtype=np.uint8).reshape(4, 5)
    assert np.array_equal(decode_png(png_bytes(grey))[:, :, 0], grey)


def test_html_report_renders(tmp_path: Path) -> None:
    case, case_path = make_case_with_series(tmp_path)
    out = write_html_report(case, tmp_path / "report.html", case_path=case_path)
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    assert "Research software, not a diagnostic device" in text
    assert "Kögler et al." in text and "T5-T6" in text and "dedifferentiated liposarcoma" in text
    assert "&lt;" not in case.findings[0].label and "=HYPERLINK(&quot;http://x&quot;)" in text  # escaped
    dims = lesion_dimensions(case, case.findings[0].id)
    assert dims is not None and dims.text() in text
    images = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", text)
    assert len(images) >= 2  # axial measurements + Bilsky contours (+ sagittal CC)
    first = decode_png(base64.b64decode(images[0]))
    assert first.shape[2] == 3 and first.shape[0] > 100
    colourful = (first.max(axis=2).astype(int) - first.min(axis=2)) > 60
    assert colourful.sum() > 200  # overlays were drawn
    # Without volumes the report still renders and says why there are no images.
    bare = build_html_report(make_case(), None, {"1.2.3": "series not found"})
    assert "No key images" in bare and "series not found" in bare


# -- commands -------------------------------------------------------------------------------------------
def test_schema_command_and_committed_schema_is_current(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["schema"]) == 0
    printed = capsys.readouterr().out
    assert printed == case_json_schema_text()
    committed = (ROOT / "docs" / "spinecase.schema.json").read_text(encoding="utf-8")
    assert committed == printed, "stale: run 'spinecase schema -o docs/spinecase.schema.json'"
    schema = json.loads(printed)
    assert schema["properties"]["schema_version"]["const"] == SCHEMA_VERSION == 3


@needs_dciodvfy
def test_export_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case, case_path = make_case_with_series(tmp_path)
    save_case(case, case_path)
    rc = cli_main(["export", str(case_path), "--csv", str(tmp_path / "m.csv"), "--findings-csv",
                   str(tmp_path / "f.csv"), "--sr", str(tmp_path / "sr.dcm"), "--report", str(tmp_path / "r.html")])
    err = capsys.readouterr().err
    assert rc == 0, err
    check_measurement_csv(case, tmp_path / "m.csv")
    check_finding_csv(case, tmp_path / "f.csv")
    assert dciodvfy_errors(tmp_path / "sr.dcm") == []
    assert "left out of the SR" in err  # the measurement without pixel spacing
    assert "data:image/png;base64," in (tmp_path / "r.html").read_text(encoding="utf-8")
    assert cli_main(["export", str(case_path)]) == 2
    (tmp_path / "broken.spinecase.json").write_text("{", encoding="utf-8")
    assert cli_main(["export", str(tmp_path / "broken.spinecase.json"), "--csv", str(tmp_path / "x.csv")]) == 1
    assert "not valid JSON" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()


# -- sample cases (once sample_dicoms/*/case.spinecase.json exist) -----------------------------------------
@pytest.mark.skipif(not SAMPLE_CASES, reason="no sample case files yet (sample_dicoms/*/case.spinecase.json)")
@pytest.mark.parametrize("case_path", SAMPLE_CASES, ids=[p.parent.name for p in SAMPLE_CASES])
def test_sample_case_exports(case_path: Path, tmp_path: Path) -> None:
    case = load_case(case_path)
    check_measurement_csv(case, write_measurements_csv(case, tmp_path / "m.csv"))
    check_finding_csv(case, write_findings_csv(case, tmp_path / "f.csv"))
    if shutil.which("dciodvfy") and any(m.series_instance_uid for m in case.measurements):
        export = write_sr(case, case_path, tmp_path / "sr.dcm")
        assert dciodvfy_errors(tmp_path / "sr.dcm") == []
        check_sr(case, tmp_path / "sr.dcm", export.skipped)
    text = write_html_report(case, tmp_path / "r.html", case_path=case_path).read_text(encoding="utf-8")
    assert text.rstrip().endswith("</html>")


def test_awkward_labels_are_all_in_the_factory() -> None:
    labels = {m.label for m in make_case().measurements}
    assert set(AWKWARD_LABELS) <= labels


def test_series_found_by_hint_or_by_searching(tmp_path: Path) -> None:
    from imaging.case.sources import find_series, series_headers

    case, case_path = make_case_with_series(tmp_path / "a")
    ref = next(s for s in case.series if s.modality == "CT")
    headers = series_headers(case_path, ref)
    assert len(headers) == 8 and all(str(h.SeriesInstanceUID) == ref.series_instance_uid for h in headers)
    assert [int(h.InstanceNumber) for h in headers] == list(range(1, 9))
    # The data moved: the hint no longer works, a search of the new folder finds it.
    moved = tmp_path / "elsewhere" / "deep"
    moved.parent.mkdir()
    shutil.move(str(tmp_path / "a" / "ct"), str(moved))
    with pytest.raises(MissingSeries, match="searched: nowhere"):
        series_headers(case_path, ref)
    found = find_series(tmp_path / "elsewhere", [ref.series_instance_uid, "1.2.3.999"])
    assert found == {ref.series_instance_uid: moved}
    assert len(series_headers(case_path, ref, [tmp_path / "elsewhere"])) == 8
