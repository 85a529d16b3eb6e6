"""A printable one-file HTML report of a case (Qt-free; the app prints it to PDF through Qt).

Sections: header (case, patient, the research-software notice), report data (the source's citation and
facts), findings (levels, involvement, lesion type, Bilsky final / suggested / ESCC group, SINS with its
components, AP x LR x CC and ellipsoid volume), the follow-up page (:mod:`imaging.followup.report`: per
lesion followed over several dates its plot, figures and RECIST 1.1; omitted for a case read at one date),
key images (one per plane that holds measurements or the Bilsky contours, overlays burned in, numbered like
the measurement table; PNG embedded as base64 so the HTML is a single file), the measurement table, the
vertebral labels and the audit trail's last entries. Values are shown at 0.1 precision (mm, mm², HU, degrees, mL).
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from imaging.case.analysis import escc_group_of, image_reference, lesion_dimensions
from imaging.case.export_csv import measurement_levels
from imaging.case.keyimage import CONTOUR_COLOURS, PALETTE, KeyImage, Overlay, measurement_overlay, render_key_image
from imaging.case.model import Case, Measurement
from imaging.case.sources import MissingSeries, series_location
from imaging.errors import LoadError
from imaging.volume import Volume

__all__ = ["build_html_report", "load_case_volumes", "write_html_report"]

MAX_KEY_IMAGES = 12

_CSS = """
body { font: 10.5pt/1.35 "DejaVu Sans", Arial, sans-serif; color: #111; margin: 18mm 14mm; }
h1 { font-size: 17pt; margin: 0 0 2mm; } h2 { font-size: 13pt; border-bottom: 1px solid #888; margin-top: 7mm; }
.notice { font-size: 9pt; color: #833; } .muted { color: #555; font-size: 9pt; }
table { border-collapse: collapse; width: 100%; margin: 2mm 0; }
th, td { border: 1px solid #bbb; padding: 1.2mm 2mm; vertical-align: top; text-align: left; }
th { background: #eee; } td.num { text-align: right; white-space: nowrap; }
table.kv th { width: 28%; }
.figs { display: flex; flex-wrap: wrap; gap: 4mm; }
.plot img { width: 130mm; height: auto; border: 1px solid #bbb; }
figure { margin: 0; width: 84mm; page-break-inside: avoid; break-inside: avoid; }
figure img { width: 100%; image-rendering: pixelated; border: 1px solid #444; background: #000; }
figcaption { font-size: 8.5pt; }
.sw { display: inline-block; width: 3mm; height: 3mm; border: 1px solid #333; margin-right: 1mm; }
pre { white-space: pre-wrap; font: inherit; margin: 0; }
@page { size: A4; margin: 12mm; }
@media print { body { margin: 0; } h2 { page-break-after: avoid; } tr { page-break-inside: avoid; } }
"""


def _e(v: object) -> str:
    return html.escape("" if v is None else str(v))


def _multiline(v: str) -> str:
    return f"<pre>{_e(v)}</pre>" if "\n" in v else _e(v)


def load_case_volumes(case: Case, case_path: str | Path, series_uids: Iterable[str] | None = None,
                      search_folders: Iterable[str | Path] = ()) -> tuple[dict[str, Volume], dict[str, str]]:
    """Load the case's series (all, or ``series_uids``) found by their path hints; returns the volumes by
    SeriesInstanceUID and, for each series that could not be loaded, the reason."""
    from imaging import load_series, scan_series

    wanted = list(series_uids) if series_uids is not None else [s.series_instance_uid for s in case.series]
    volumes: dict[str, Volume] = {}
    problems: dict[str, str] = {}
    for uid in wanted:
        ref = case.series_ref(uid)
        if ref is None:
            problems[uid] = "not among the case's series"
            continue
        places = [p for p in [series_location(case_path, ref)] if p is not None] + [Path(f) for f in search_folders]
        if not places:
            problems[uid] = f"no files found (path hint {ref.path_hint!r})"
            continue
        try:
            infos = [i for place in places for i in scan_series(place) if i.series_uid == uid]
            if not infos:
                problems[uid] = f"series not found in {', '.join(map(str, places))}"
                continue
            info = max(infos, key=lambda i: i.image_count)
            volumes[uid] = load_series(info)
        except LoadError as exc:
            problems[uid] = str(exc)
    return volumes, problems


def _value_text(m: Measurement) -> str:
    vals = m.values()
    if not vals:
        return "—"
    return "; ".join(f"{v.title} {v.text()}" for v in vals)


def _key_images(case: Case, volumes: Mapping[str, Volume], numbers: dict[str, int]
                ) -> tuple[list[tuple[KeyImage, str]], list[str]]:
    """Render one image per (series, orientation, plane) holding measurements, plus each graded finding's
    Bilsky slice with its contours."""
    groups: dict[tuple[str, str, int], list[Measurement]] = {}
    notes: list[str] = []
    from imaging.display import plane_spec

    for m in case.measurements:
        vol = volumes.get(m.series_instance_uid or "")
        if vol is None:
            continue
        orientation = m.plane.orientation if m.plane.orientation != "oblique" else "axial"
        spec = plane_spec(vol, orientation)
        centre = np.mean(np.asarray(m.points, dtype=np.float64), axis=0)
        k = spec.nearest_slice(centre)
        groups.setdefault((m.series_instance_uid or "", orientation, k), []).append(m)
    images: list[tuple[KeyImage, str]] = []
    for (uid, group_orientation, _k), ms in list(groups.items())[:MAX_KEY_IMAGES]:
        vol = volumes[uid]
        overlays = [measurement_overlay(m.kind, m.points, PALETTE[(numbers[m.id] - 1) % len(PALETTE)],
                                        str(numbers[m.id])) for m in ms]
        hint = np.mean(np.asarray(ms[0].points, dtype=np.float64), axis=0)
        img = render_key_image(vol, group_orientation, hint, overlays)
        ref = case.series_ref(uid)
        spec = plane_spec(vol, group_orientation)
        number = vol.instance_number(img.slice_index) if spec.is_acquired else None
        where = image_reference(group_orientation, [spec.geometry(img.slice_index).origin], spec.geometry(0).normal,
                                number)
        caption = (f"{_e(ref.description if ref else uid)} — {group_orientation} {_e(where)}: "
                   + ", ".join(f"#{numbers[m.id]} {_e(m.label or m.kind)}" for m in ms))
        images.append((img, caption))
    if len(groups) > MAX_KEY_IMAGES:
        notes.append(f"{len(groups) - MAX_KEY_IMAGES} more planes with measurements are not shown.")
    for f in case.findings:
        contours = [c for c in f.contours if (c.series_instance_uid or "") in volumes]
        if not contours:
            continue
        vol = volumes[contours[0].series_instance_uid or ""]
        overlays = [Overlay(np.asarray(c.points, dtype=np.float64), CONTOUR_COLOURS[c.kind], closed=True)
                    for c in contours]
        hint = np.mean(np.asarray(contours[0].points, dtype=np.float64), axis=0)
        img = render_key_image(vol, "axial", hint, overlays)
        legend = " ".join(f'<span class="sw" style="background:rgb{CONTOUR_COLOURS[k]}"></span>{k}'
                          for k in CONTOUR_COLOURS if any(c.kind == k for c in contours))
        grade = f"Bilsky {f.bilsky.grade}" if f.bilsky.grade else "not graded"
        images.append((img, f"{_e(f.label or 'finding')}: Bilsky contours ({grade}) — {legend}"))
    return images, notes


def build_html_report(case: Case, volumes: Mapping[str, Volume] | None = None,
                      problems: Mapping[str, str] | None = None, grade_1c_as: str = "high",
                      generated_utc: datetime | None = None) -> str:
    """The report as one HTML document (key images need ``volumes`` by SeriesInstanceUID). ``generated_utc``:
    the time printed as generated (default now; a de-identified report prints its shifted time)."""
    volumes = volumes or {}
    numbers = {m.id: i + 1 for i, m in enumerate(case.measurements)}
    r = case.report
    p = case.patient
    out: list[str] = []
    w = out.append
    w("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>")
    w(f"<title>SpineCase report {_e(case.case_id)}</title><style>{_CSS}</style></head><body>")
    w(f"<h1>SpineCase case report — {_e(case.case_id)}</h1>")
    w("<p class='notice'>Research software, not a diagnostic device. Measurements in patient millimetres "
      "(LPS); values shown to 0.1.</p>")
    sex = {"F": "female", "M": "male", "O": "other"}.get(p.sex or "", "")
    age = f"{p.age_years:g} years" if p.age_years is not None else ""
    w("<table class='kv'>")
    for k, v in (("Patient", " · ".join(x for x in (p.id, p.name or "", sex, age) if x)),
                 ("Studies", "; ".join(f"{s.description or s.study_instance_uid} "
                                       f"({s.study_date.isoformat() if s.study_date else 'no date'})"
                                       for s in case.studies)),
                 ("Readers", ", ".join(f"{x.name} ({x.role})" if x.role else x.name for x in case.readers)),
                 ("Case created / updated",
                  f"{case.created_utc:%Y-%m-%d %H:%M} / {case.updated_utc:%Y-%m-%d %H:%M} UTC"),
                 ("Report generated", f"{generated_utc or datetime.now(UTC):%Y-%m-%d %H:%M} UTC")):
        w(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>")
    w("</table>")

    w("<h2>Report data</h2><table class='kv'>")
    source = _e(r.citation)
    if r.doi:
        source += f" doi:<a href='https://doi.org/{_e(r.doi)}'>{_e(r.doi)}</a>"
    if r.url:
        source += f" <a href='{_e(r.url)}'>{_e(r.url)}</a>"
    rows = [("Source", source), ("Clinical presentation", _multiline(r.clinical_presentation)),
            ("Histology", _e(r.histology)), ("Tumour grade", _e(r.tumour_grade)),
            ("Primary site", _e(r.primary_site)), ("Levels as reported", _e(r.levels_reported)),
            ("Bilsky as reported", _e(r.bilsky_reported or "")),
            ("Reported dimensions", "<br>".join(
                _e(f"{d.label}: {d.text or ' x '.join(f'{x:g}' for x in d.dimensions_mm) + ' mm'}")
                for d in r.reported_dimensions)),
            ("Treatments", "<br>".join(_e(" — ".join(x for x in (t.timing, t.kind, t.description) if x))
                                       for t in r.treatments)),
            ("Outcome", _multiline(r.outcome)), ("Follow-up", _multiline(r.follow_up)),
            ("Report / impression", _multiline(r.report_text))]
    for k, v in rows:
        if v:
            w(f"<tr><th>{_e(k)}</th><td>{v}</td></tr>")
    w("</table>")

    w("<h2>Findings</h2>")
    if not case.findings:
        w("<p class='muted'>No findings.</p>")
    else:
        w("<table><tr><th>Finding</th><th>Levels</th><th>Involvement</th><th>Type</th><th>Bilsky</th>"
          "<th>SINS</th><th>Dimensions (AP x LR x CC)</th><th>Measurements</th></tr>")
        for f in case.findings:
            inv = "<br>".join(f"{_e(i.level)}: {_e(', '.join(s.replace('_', ' ') for s in i.sectors))}"
                              for i in f.involvement)
            b = f.bilsky
            bil = ""
            if b.grade:
                bil = f"<b>{_e(b.grade)}</b> ({_e(escc_group_of(b.grade, grade_1c_as))} grade ESCC)"
                where = ", ".join(x for x in (b.level or "", f"Im {b.instance_number}"
                                              if b.instance_number is not None else "") if x)
                if where:
                    bil += f"<br><span class='muted'>at {_e(where)}</span>"
            if b.suggested_grade:
                bil += f"<br><span class='muted'>suggested {_e(b.suggested_grade)}</span>"
            score = f.sins_score()
            sins = ""
            if score is not None:
                sins = f"<b>{score.total}</b> ({_e(score.category.label)})<br><span class='muted'>" + "<br>".join(
                    _e(f"{c.component}: {c.wording} ({c.points})") for c in score.components) + "</span>"
            dims = lesion_dimensions(case, f.id)
            dim = ""
            if dims is not None:
                dim = _e(dims.text())
                if dims.volume is not None:
                    dim += f"<br>ellipsoid {_e(dims.volume_text())}"
            ms = ", ".join(f"#{numbers[m.id]}" for m in case.finding_measurements(f.id))
            label = _e(f.label or "(unnamed)") + (f"<br><span class='muted'>{_e(f.notes)}</span>" if f.notes else "")
            w(f"<tr><td>{label}</td><td>{_e(f.levels_text)}</td><td>{inv}</td><td>{_e(f.lesion_type or '')}</td>"
              f"<td>{bil}</td><td>{sins}</td><td>{dim}</td><td>{ms}</td></tr>")
        w("</table>")

    from imaging.followup.report import followup_section_html  # the follow-up page (issue 18), "" when none

    w(followup_section_html(case))

    images, notes = _key_images(case, volumes, numbers)
    w("<h2>Key images</h2>")
    if images:
        w("<div class='figs'>")
        for img, caption in images:
            data = base64.b64encode(img.png).decode("ascii")
            w(f"<figure><img alt='key image' width='{img.width}' height='{img.height}' "
              f"src='data:image/png;base64,{data}'><figcaption>{caption}<br><span class='muted'>"
              f"{img.pixel_mm:.2f} mm per image pixel</span></figcaption></figure>")
        w("</div>")
    else:
        w("<p class='muted'>No key images (the series were not available).</p>")
    for n in notes:
        w(f"<p class='muted'>{_e(n)}</p>")
    for uid, why in (problems or {}).items():
        w(f"<p class='muted'>Series {_e(uid)} not shown: {_e(why)}</p>")

    w("<h2>Measurements</h2>")
    if not case.measurements:
        w("<p class='muted'>No measurements.</p>")
    else:
        w("<table><tr><th>#</th><th>Type</th><th>Label</th><th>Values</th><th>Finding</th><th>Levels</th>"
          "<th>Series / plane</th><th>Reader</th></tr>")
        for m in case.measurements:
            ref = case.series_ref(m.series_instance_uid)
            finding = case.finding(m.finding_id).label if m.finding_id else ""
            where = (f"{ref.description if ref else ''} / "
                     + image_reference(m.plane.orientation, m.points, m.plane.normal, m.instance_number))
            w(f"<tr><td class='num'>{numbers[m.id]}</td><td>{_e(m.kind.replace('_', ' '))}</td>"
              f"<td>{_multiline(m.label)}</td><td>{_e(_value_text(m))}</td><td>{_e(finding)}</td>"
              f"<td>{_e(measurement_levels(case, m))}</td><td>{_e(where)}</td><td>{_e(m.reader)}</td></tr>")
        w("</table>")

    if case.vertebral_labels:
        w("<h2>Vertebral labels</h2><p>")
        # one entry per level and source, cranial to caudal (a level labelled on several series is listed once)
        from imaging.spine.levels import level_index

        pairs = sorted(dict.fromkeys((lab.label, lab.source) for lab in case.vertebral_labels),
                       key=lambda p: level_index(p[0]))
        w(", ".join(f"{_e(lv)} ({_e(src)})" for lv, src in pairs))
        w("</p>")
    if case.audit:
        w("<h2>Audit trail (last 15 entries)</h2><table><tr><th>When (UTC)</th><th>Who</th><th>What</th></tr>")
        for a in case.audit[-15:]:
            w(f"<tr><td>{a.when_utc:%Y-%m-%d %H:%M:%S}</td><td>{_e(a.who)}</td><td>{_e(a.action)} "
              f"{_e(a.summary)}</td></tr>")
        w("</table>")
    w("</body></html>\n")
    return "".join(out)


def write_html_report(case: Case, out: str | Path, case_path: str | Path | None = None,
                      volumes: Mapping[str, Volume] | None = None) -> Path:
    """Write the HTML report (atomically). Without ``volumes``, the series are loaded from the case's path
    hints (relative to ``case_path``); series that cannot be loaded are named in the report."""
    from imaging.case.store import atomic_write

    problems: dict[str, str] = {}
    if volumes is None and case_path is not None:
        uids = {m.series_instance_uid for m in case.measurements if m.series_instance_uid}
        uids |= {c.series_instance_uid for f in case.findings for c in f.contours if c.series_instance_uid}
        try:
            volumes, problems = load_case_volumes(case, case_path, sorted(uids))
        except MissingSeries as exc:  # pragma: no cover - load_case_volumes reports instead of raising
            volumes, problems = {}, {"": str(exc)}
    text = build_html_report(case, volumes, problems)
    return atomic_write(out, text.encode("utf-8"))
