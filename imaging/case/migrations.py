"""Schema versions of ``*.spinecase.json`` and the migrations between them (run on open).

History
-------
**Version 0** — the pre-release prototype format, documented here so old files still open::

    {
      "schema_version": 0,
      "case_id": "...",
      "created": "2024-05-01T10:00:00Z",          # -> created_utc
      "modified": "2024-05-02T11:00:00Z",         # -> updated_utc
      "patient_id": "P1", "patient_sex": "F",     # -> patient.id, patient.sex
      "patient_age": "036Y",                      # DICOM AS -> patient.age_years
      "citation": "...", "doi": "...",            # -> report.citation, report.doi
      "series": [{"uid": "1.2...", "study_uid": "1.2...", "modality": "CT", "description": "...",
                  "path": "ct"}],                 # -> series[] (path -> path_hint), studies[] from study_uid
      "levels": {"T5": [x, y, z], ...},           # a dict label -> centre -> vertebral_labels[] (manual)
      "lesions": [{"id": "les1", "name": "...", "levels": "T5-T6", "bilsky": 3 | "1c",
                   "notes": "..."}],              # -> findings[] (levels parsed, grade as a string)
      "measurements": [{"id": "m1", "type": "distance" | "bidirectional" | "ellipse" | "polygon" |
                        "angle" | "cc", "points": [[x, y, z], ...], "plane": "axial" | ...,
                        "series_uid": "...", "sop_uid": "...", "slice": 12, "label": "...",
                        "reader": "...", "created": "...", "lesion": "les1"}]
    }

Old ids (free strings) become uuid5 hex ids derived from them, so references survive. The migration
appends an audit entry ("migrate", "schema 0 -> 1").

**Version 1** — as version 2 without the ``assessments`` lists, and with ``Measurement.kind`` one of the
nine built-in kinds (length, bidirectional, ellipse_roi, polygon_roi, freehand_roi, angle, cobb, probe,
cc_extent).

**Version 2** — measurement kinds and scores come from registries (:mod:`imaging.measurement_kinds`,
:mod:`imaging.scores`), so a new kind or score needs no new version: ``Measurement.kind`` is any registered
kind; ``Finding.assessments`` and ``Case.assessments`` hold the answers of registered scores without a field
of their own (a case-level score such as Tokuhashi's). A version-1 document is a valid version-2 document with
empty ``assessments``; the migration only records itself. In version 2 a finding is one lesion read at one
time: its levels, Bilsky grade, SINS and measurements carry no date of their own, and a series reference has
no slice thickness.

**Version 3** — :mod:`imaging.case.model` (current). Follow-up (issue 18): a finding is one lesion followed
over time. Its own fields describe it at its index timepoint (``Finding.index_timepoint``: study date, name,
CID 6146 kind) and ``Finding.timepoints`` hold it at other study dates, each with its own status, levels,
involvement, Bilsky grade, SINS and score assessments; a measurement belongs to the timepoint of its study's
date. New: ``recist_target``, ``resection_date`` on a finding and ``slice_thickness_mm`` on a series reference
(unknown, None, in a migrated file). The migration (:func:`_v2_to_v3`) dates each finding from its images: the
index date is the study date of the image its Bilsky grade was read on, else the earliest study date of its
measurements; a measurement on another date gets a timepoint of its own at that date, with nothing graded (the
reader's grade stays where it was recorded). Nothing else changes; an audit entry says what was dated.

To change the schema: bump ``SCHEMA_VERSION`` in the model, add ``_v3_to_v4`` here and register it in
``MIGRATIONS``, document the old version above, add a test with a version-3 file, regenerate
``docs/spinecase.schema.json`` (``spinecase schema > docs/spinecase.schema.json``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from imaging.case.model import SCHEMA_VERSION, new_id
from imaging.spine.levels import parse_level_range

_NS = uuid.UUID("6f1b0e52-4a5e-4d0e-9a57-5c1d2f0b7a10")  # namespace of ids derived from version-0 ids

_PLANE_NORMALS = {"axial": (0.0, 0.0, 1.0), "sagittal": (1.0, 0.0, 0.0), "coronal": (0.0, 1.0, 0.0)}
_V0_KINDS = {"distance": "length", "length": "length", "bidirectional": "bidirectional",
             "ellipse": "ellipse_roi", "polygon": "polygon_roi", "freehand": "freehand_roi",
             "angle": "angle", "cobb": "cobb", "probe": "probe", "cc": "cc_extent"}


def _v0_id(old: Any) -> str:
    return uuid.uuid5(_NS, str(old)).hex if old not in (None, "") else new_id()


def _age_years(text: Any) -> float | None:
    if isinstance(text, int | float):
        return float(text)
    m = re.fullmatch(r"\s*(\d{1,3})\s*([DWMY]?)\s*", str(text or ""))
    if not m:
        return None
    n, unit = int(m.group(1)), m.group(2) or "Y"
    return {"Y": n, "M": n / 12, "W": n / 52.1775, "D": n / 365.25}[unit]


def _v0_to_v1(doc: dict[str, Any]) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    series, studies, study_uids = [], [], []
    for s in doc.get("series", []):
        if s.get("study_uid") and s["study_uid"] not in study_uids:
            study_uids.append(s["study_uid"])
            studies.append({"id": _v0_id("study:" + s["study_uid"]), "study_instance_uid": s["study_uid"]})
        series.append({"id": _v0_id("series:" + s["uid"]), "series_instance_uid": s["uid"],
                       "study_instance_uid": s.get("study_uid"), "modality": s.get("modality", ""),
                       "description": s.get("description", ""), "path_hint": s.get("path")})
    labels = [{"id": _v0_id("level:" + name), "label": name, "centre": centre, "source": "manual"}
              for name, centre in (doc.get("levels") or {}).items()]
    findings = []
    finding_ids: dict[str, str] = {}
    for les in doc.get("lesions", []):
        fid = _v0_id("lesion:" + str(les.get("id", les.get("name", ""))))
        finding_ids[str(les.get("id", les.get("name", "")))] = fid
        f: dict[str, Any] = {"id": fid, "label": les.get("name", ""), "notes": les.get("notes", "")}
        if les.get("levels"):
            rng = parse_level_range(les["levels"])
            f.update(level_from=rng.start, level_to=rng.end, levels_auto=False)
        if les.get("bilsky") is not None:
            f["bilsky"] = {"grade": str(les["bilsky"]).lower()}
        findings.append(f)
    measurements = []
    for m in doc.get("measurements", []):
        plane = str(m.get("plane", "axial"))
        if plane not in _PLANE_NORMALS:
            raise ValueError(f"version-0 measurement {m.get('id')!r} has plane {plane!r}; expected axial, "
                             "sagittal or coronal")
        kind = _V0_KINDS.get(str(m.get("type")))
        if kind is None:
            raise ValueError(f"version-0 measurement {m.get('id')!r} has unknown type {m.get('type')!r}")
        out = {"id": _v0_id("measurement:" + str(m.get("id", ""))), "kind": kind, "points": m.get("points", []),
               "plane": {"orientation": plane, "normal": _PLANE_NORMALS[plane]},
               "series_instance_uid": m.get("series_uid"), "sop_instance_uid": m.get("sop_uid"),
               "slice_index": m.get("slice"), "label": m.get("label", ""), "reader": m.get("reader", "")}
        if m.get("created"):
            out["created_utc"] = m["created"]
        if m.get("lesion") is not None:
            if str(m["lesion"]) not in finding_ids:
                raise ValueError(f"version-0 measurement {m.get('id')!r} refers to unknown lesion {m['lesion']!r}")
            out["finding_id"] = finding_ids[str(m["lesion"])]
        measurements.append(out)
    readers = sorted({m.get("reader") for m in doc.get("measurements", []) if m.get("reader")})
    new: dict[str, Any] = {
        "schema_version": 1,
        "case_id": doc.get("case_id") or new_id(),
        "created_utc": doc.get("created") or now,
        "updated_utc": doc.get("modified") or doc.get("created") or now,
        "patient": {"id": doc.get("patient_id", ""), "sex": doc.get("patient_sex") or None,
                    "age_years": _age_years(doc.get("patient_age"))},
        "report": {"citation": doc.get("citation", ""), "doi": doc.get("doi")},
        "studies": studies,
        "series": series,
        "vertebral_labels": labels,
        "findings": findings,
        "measurements": measurements,
        "readers": [{"id": _v0_id("reader:" + r), "name": r} for r in readers],
        "audit": [{"id": new_id(), "when_utc": now, "who": "spinecase", "action": "migrate",
                   "object_type": "case", "summary": "schema 0 -> 1 (prototype format converted on open)"}],
    }
    return new


def _v1_to_v2(doc: dict[str, Any]) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    audit = list(doc.get("audit") or [])
    audit.append({"id": new_id(), "when_utc": now, "who": "spinecase", "action": "migrate", "object_type": "case",
                  "summary": "schema 1 -> 2 (measurement kinds and scores from registries; case-level scores)"})
    return {**doc, "schema_version": 2, "audit": audit}


def _v2_to_v3(doc: dict[str, Any]) -> dict[str, Any]:
    """Version 2 -> 3: date each finding's index timepoint and give measurements on other dates their own
    timepoint (see the module docstring)."""
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    study_dates = {st.get("study_instance_uid"): st.get("study_date") for st in doc.get("studies") or []}
    series_dates = {se.get("series_instance_uid"): study_dates.get(se.get("study_instance_uid"))
                    for se in doc.get("series") or []}

    def day(series_uid: Any) -> date | None:
        text = series_dates.get(series_uid)
        try:
            return date.fromisoformat(str(text)) if text else None
        except ValueError:
            return None

    dated: list[str] = []
    findings = []
    for f in doc.get("findings") or []:
        f = dict(f)
        days = sorted({d for m in doc.get("measurements") or [] if m.get("finding_id") == f.get("id")
                       and (d := day(m.get("series_instance_uid"))) is not None})
        graded = day((f.get("bilsky") or {}).get("series_instance_uid"))
        index = graded or (days[0] if days else None)
        f["index_timepoint"] = {"study_date": index.isoformat() if index else None}
        f["timepoints"] = [{"id": _v0_id(f"timepoint:{f.get('id')}:{d.isoformat()}"), "study_date": d.isoformat(),
                            "reader": "spinecase", "created_utc": now, "updated_utc": now}
                           for d in days if d != index]
        if index is not None:
            extra = f" and {len(f['timepoints'])} other date(s)" if f["timepoints"] else ""
            dated.append(f"{f.get('label') or f.get('id')}: {index.isoformat()}{extra}")
        findings.append(f)
    new = {**doc, "schema_version": 3, "findings": findings}
    summary = "schema 2 -> 3 (follow-up timepoints)" + (f"; findings dated: {'; '.join(dated)}" if dated else "")
    new["audit"] = [*(doc.get("audit") or []), {"id": new_id(), "when_utc": now, "who": "spinecase",
                                                 "action": "migrate", "object_type": "case", "summary": summary}]
    return new


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {0: _v0_to_v1, 1: _v1_to_v2, 2: _v2_to_v3}
"""``MIGRATIONS[n]`` turns a version-``n`` document into a version-``n + 1`` document."""


def migrate(doc: dict[str, Any]) -> tuple[dict[str, Any], list[int]]:
    """Bring a parsed case document up to :data:`SCHEMA_VERSION`; returns it and the versions it passed
    through (empty when it was current). Raises ValueError for a version with no migration path (the store
    turns a *newer* version into ``CaseFileNewerVersion`` before calling this)."""
    version = doc.get("schema_version")
    passed: list[int] = []
    while version != SCHEMA_VERSION:
        step = MIGRATIONS.get(version) if isinstance(version, int) else None
        if step is None or not isinstance(version, int):
            raise ValueError(f"no migration from schema version {version!r}")
        passed.append(version)
        doc = step(doc)
        version = doc.get("schema_version")
    return doc, passed
