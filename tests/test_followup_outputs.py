"""Follow-up outputs: the size-over-time plot (axes, the 1 cm/month line, hit-testing, SVG), the report's
follow-up page (HTML and the PDF's plot image), the SR time point context (TID 1502), and a Bilsky grade kept
at the date of the image it was read on."""

from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from pathlib import Path

import pytest

from imaging.case.model import BilskyAssessment
from imaging.case.store import load_case
from imaging.followup.plot import PlotLayout, PlotPoint, nice_ticks, plot_svg, size_plot
from imaging.followup.report import followup_section_html
from imaging.followup.sr import time_point_context, time_point_text

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_dicoms"


def test_nice_ticks() -> None:
    assert nice_ticks(42.75) == (0.0, 10.0, 20.0, 30.0, 40.0, 50.0)
    assert nice_ticks(10.0) == (0.0, 2.0, 4.0, 6.0, 8.0, 10.0)
    assert nice_ticks(0.0) == (0.0,)
    assert nice_ticks(260.0)[-1] >= 260.0


def test_size_plot_axes_reference_line_and_hits() -> None:
    d0 = date(2024, 1, 8)
    pts = [PlotPoint(d0, 34.2, "a"), PlotPoint(d0 + timedelta(days=35), 16.8, "b"),
           PlotPoint(d0 + timedelta(days=126), 16.8, "c", flagged=True), PlotPoint(d0 + timedelta(days=200), None, "d")]
    plot = size_plot(list(reversed(pts)), title="T6")
    assert [p.key for p in plot.points] == ["a", "b", "c", "d"]
    assert plot.x_min < d0 and plot.x_max > d0 + timedelta(days=200)
    assert plot.y_ticks[0] == 0.0 and plot.y_max == plot.y_ticks[-1] >= 1.25 * 34.2
    assert [t[1] for t in plot.x_ticks] == ["2024-01", "2024-03", "2024-05", "2024-07"]  # every 2nd month
    # The 1 cm/month line starts at the first measured point and rises 10 mm per 30.4375 days, clipped.
    (da, va), (db, vb) = plot.reference
    assert (da, va) == (d0, 34.2) and vb <= plot.y_max
    assert (vb - va) / ((db - da).days / 30.4375) == pytest.approx(10.0, rel=1e-9)
    assert plot.reference_label == "1 cm/month"
    lay = PlotLayout(500, 240)
    for p in plot.points:
        x, y = lay.point_pixel(plot, p)
        assert lay.hit(plot, x + 3, y - 3).key == p.key
    assert lay.hit(plot, 1, 1) is None
    single = size_plot([PlotPoint(d0, 5.0)])
    assert single.x_min == d0 - timedelta(days=30) and single.y_max == 10.0
    with pytest.raises(ValueError):
        size_plot([])


def test_plot_svg_is_well_formed() -> None:
    plot = size_plot([PlotPoint(date(2024, 2, 5), 24.9), PlotPoint(date(2024, 5, 13), 24.9)], title="adrenal <L1>")
    root = ET.fromstring(plot_svg(plot))
    assert root.tag.endswith("svg") and root.get("width") == "520"
    texts = [t.text for t in root.iter() if t.tag.endswith("text")]
    assert "1 cm/month" in texts and "adrenal <L1>" in texts and "24.9" in texts
    assert any(e.tag.endswith("polyline") for e in root.iter())


def test_report_follow_up_page_of_the_thoracic_case() -> None:
    case = load_case(SAMPLES / "thoracic_ddlps" / "case.spinecase.json")
    page = followup_section_html(case)
    assert "page-break-before: always" in page and "<h3>T5-T6 primary DDLPS</h3>" in page
    assert "restaging after chemotherapy" in page and "no significant change" in page and "3 -&gt; 0" in page
    svg = re.search(r"src='data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)'", page)
    assert svg and b"1 cm/month" in base64.b64decode(svg.group(1))
    assert "doi:10.1097/SLA.0b013e3181b2468b" in page
    # A case read at one date keeps its report as it was.
    assert followup_section_html(load_case(SAMPLES / "cervical_alt_metastases" / "case.spinecase.json")) == ""


def test_pdf_draws_the_plot_as_an_image(qapp) -> None:
    from app.report_pdf import printable_html
    from imaging.case.export_report import build_html_report

    case = load_case(SAMPLES / "retroperitoneal_ddlps" / "case.spinecase.json")
    html, images = printable_html(build_html_report(case))
    plots = {k: v for k, v in images.items() if k.startswith("spinecase-plot-")}
    assert len(plots) == 2 and all(v.width() == 1040 and v.height() == 480 for v in plots.values())
    assert "data:image/svg" not in html and "RECIST 1.1" in html and "SD (stable disease)" in html


def test_time_point_context_tid_1502() -> None:
    tp = time_point_context(date(2024, 5, 13), order=3, baseline_date=date(2024, 1, 8),
                            time_point_type="post_chemotherapy", label="restaging after chemotherapy")
    items = {i.ConceptNameCodeSequence[0].CodeMeaning: i for i in tp}
    assert items["Time Point"].TextValue == "restaging after chemotherapy (2024-05-13)"
    assert items["Time Point Type"].ConceptCodeSequence[0].CodeValue == "262502001"  # SCT Post-chemotherapy
    assert float(items["Time Point Order"].MeasuredValueSequence[0].NumericValue) == 3
    assert items["Subject Time Point Identifier"].TextValue == "TP3"
    offset = items["Longitudinal Temporal Offset from Event"]
    assert float(offset.MeasuredValueSequence[0].NumericValue) == 126
    assert offset.MeasuredValueSequence[0].MeasurementUnitsCodeSequence[0].CodeValue == "d"
    assert offset.ContentSequence[0].ConceptCodeSequence[0].CodeMeaning == "Baseline"
    first = {i.ConceptNameCodeSequence[0].CodeMeaning: i for i in
             time_point_context(date(2024, 1, 8), order=1, baseline_date=date(2024, 1, 8))}
    assert first["Time Point Type"].ConceptCodeSequence[0].CodeMeaning == "Baseline"
    assert time_point_text(None) == "undated"


def test_a_grade_stays_at_the_date_of_its_image() -> None:
    case = load_case(SAMPLES / "thoracic_ddlps" / "case.spinecase.json")
    f = case.findings[0]
    restaging = f.timepoints[-1]
    on_restaging = restaging.bilsky.series_instance_uid
    # The finding's own (pre-operative) grade read on a restaging image is refused: it belongs to that date.
    with pytest.raises(ValueError, match="belongs to its timepoint of 2024-05-13"):
        case.update(f.id, bilsky=BilskyAssessment(grade="2", series_instance_uid=on_restaging))
    # A timepoint's grade read on an image of another date is refused too.
    with pytest.raises(ValueError, match="read on an image of 2024-01-08"):
        case.update(restaging.id, bilsky=BilskyAssessment(grade="0", series_instance_uid=f.bilsky.series_instance_uid))
    assert case.findings[0].bilsky.grade == "3" and case.findings[0].timepoints[-1].bilsky.grade == "0"
