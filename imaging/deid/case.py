"""De-identification of a case file (:class:`~imaging.case.model.Case`). Qt-free.

The case is walked as JSON, field by field, with the same replacements the DICOM files get, so the
de-identified case opens on the de-identified images: every ``*_uid`` through the run's UID map, object ids
(and the case id) through the key, ``*_date`` by the date option, ``*_utc`` times shifted by the patient's
shift (kept with retain-dates), reader handles to reader pseudonyms, the patient to the pseudonym (name,
sex and age removed, as PS3.15's Basic Profile removes them), path hints to where the series are in the
output, and every other text (labels, notes, report data, audit summaries) through the free-text scrubber.
Geometry, values and codes are not touched: measurements stay equal to the last bit.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from imaging.case.model import AuditEntry, Case
from imaging.deid.keys import DeidKey, UidMap
from imaging.deid.table import DateOption, Profile
from imaging.deid.text import TextScrubber

__all__ = ["CaseDeidentifier", "tracking_uid_overrides"]

_HEX_ID = re.compile(r"^[0-9a-f]{32}$")
# Values that are codes, levels or names of things, never free text: left as they are.
_CODED_KEYS = frozenset({"schema_version", "kind", "modality", "source", "orientation", "lesion_type", "sectors",
                         "unit", "grade", "suggested_grade", "bilsky_reported", "level", "level_from", "level_to",
                         "pain", "bone_lesion", "alignment", "collapse", "posterolateral", "location_override",
                         "action", "object_type"})
_IDENTIFIER_ONLY_KEYS = frozenset({"doi", "url"})


def tracking_uid_overrides(case: Case, key: DeidKey) -> dict[str, str]:
    """UID overrides keeping an SR's tracking UIDs (``2.25.`` + the object id as an integer) tied to the
    replaced object ids."""
    import uuid

    out: dict[str, str] = {}
    for _kind, obj in case._all_objects():
        out[f"2.25.{uuid.UUID(hex=obj.id).int}"] = f"2.25.{uuid.UUID(hex=key.object_id(obj.id)).int}"
    return out


@dataclass
class CaseDeidentifier:
    """De-identifies cases for one run. ``path_hint`` maps an original path hint to the new one (None: no
    hint). ``counts``: what was done, by field kind (no values)."""

    key: DeidKey
    uid: UidMap
    profile: Profile
    scrubber: TextScrubber
    counts: Counter[str] = field(default_factory=Counter)

    def deidentify(self, case: Case, *, pseudonym: str, shift: timedelta, location: str,
                   path_hint: Callable[[str | None], str | None], note: str = "") -> Case:
        """A de-identified copy of ``case`` for the patient with ``pseudonym`` and date ``shift``."""
        self._shift = shift
        self._path_hint = path_hint
        self.scrubber.shift = shift
        data = case.model_dump(mode="json")
        out: dict[str, Any] = {}
        for k, v in data.items():
            if k == "patient":
                out[k] = {"id": pseudonym, "name": pseudonym, "sex": None, "age_years": None}
                self.counts["patient replaced by the pseudonym"] += 1
            elif k == "case_id":
                out[k] = self.key.case_id(v)
            else:
                out[k] = self._value(k, v, f"{location} {k}", parent="")
        result = Case.model_validate(out)
        if note:
            when = datetime.now().astimezone() + (shift if self.profile.dates is not DateOption.KEEP
                                                  else timedelta(0))
            result.audit.append(AuditEntry(when_utc=when, who="SpineCase", action="deidentify",
                                           object_type="case", summary=note))
        return result

    def _value(self, key: str, value: Any, where: str, parent: str) -> Any:
        if isinstance(value, dict):
            return {k: self._value(k, v, f"{where}.{k}", parent=key) for k, v in value.items()}
        if isinstance(value, list):
            return [self._value(key, v, f"{where}[{i}]", parent=parent) for i, v in enumerate(value)]
        if not isinstance(value, str) or value == "":
            return value
        if key in ("id", "finding_id", "object_id") and _HEX_ID.match(value):
            self.counts["object ids replaced"] += 1
            return self.key.object_id(value)
        if key.endswith("_uid"):
            self.counts["UIDs replaced"] += 1
            return self.uid(value)
        if key.endswith("_utc"):
            return self._time(value)
        if key.endswith("_date"):
            return self._date(value)
        if key == "path_hint":
            self.counts["path hints remapped"] += 1
            return self._path_hint(value)
        if key in ("reader", "who") or (parent == "readers" and key == "name"):
            self.counts["reader names replaced"] += 1
            return self.key.reader_pseudonym(value)
        if key in _CODED_KEYS or (parent == "vertebral_labels" and key == "label"):
            return value
        before = len(self.scrubber.replacements)
        text = self.scrubber.scrub(value, where, patterns=key not in _IDENTIFIER_ONLY_KEYS)
        if len(self.scrubber.replacements) != before:
            self.counts["text fields cleaned"] += 1
        return text

    def _time(self, value: str) -> str:
        if self.profile.dates is DateOption.KEEP:
            return value
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
        self.counts["times shifted"] += 1
        return (t + self._shift).isoformat()

    def _date(self, value: str) -> str | None:
        if self.profile.dates is DateOption.KEEP:
            return value
        if self.profile.dates is DateOption.REMOVE:
            self.counts["dates removed"] += 1
            return None
        self.counts["dates shifted"] += 1
        return (date.fromisoformat(value) + self._shift).isoformat()
