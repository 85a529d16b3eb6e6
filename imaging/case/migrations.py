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

**Version 2** — :mod:`imaging.case.model` (current). Measurement kinds and scores come from registries
(:mod:`imaging.measurement_kinds`, :mod:`imaging.scores`), so a new kind or score needs no new version:
``Measurement.kind`` is any registered kind; ``Finding.assessments`` and ``Case.assessments`` hold the answers
of registered scores without a field of their own (a case-level score such as Tokuhashi's). A version-1
document is a valid version-2 document with empty ``assessments``; the migration only records itself.

To change the schema: bump ``SCHEMA_VERSION`` in the model, add ``_v1_to_v2`` here and register it in
``MIGRATIONS``, document the old version above, add a test with a version-1 file, regenerate
``docs/spinecase.schema.json`` (``spinecase schema > docs/spinecase.schema.json``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
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


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {0: _v0_to_v1, 1: _v1_to_v2}
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
