"""De-identification of one DICOM dataset: every element, in every sequence item, by PS3.15 Table E.1-1
(:mod:`imaging.deid.table`) with the run's options. Qt-free.

Generic by design: images, SR, SEG, KOS or any other object are walked the same way, so references inside
sequences (ReferencedSOPSequence, evidence sequences, SCOORD3D frames of reference, source images) get the
same UID replacement as the objects they point to. Beyond the table:

* Patient's Name and Patient ID become the patient's pseudonym (Z and Z/D allow a dummy);
* a UI element the table does not list is replaced too unless it names a well-known UID or a coding
  scheme / class / transfer syntax (a newer instance UID then cannot link back);
* a person name the table does not list gets a dummy; dates and date-times it does not list follow the date
  option; kept text is scanned for the patients' identifiers (labels, descriptions, comments and text in
  structured content also for date- and ID-like strings);
* private elements are removed unless listed in :data:`SAFE_PRIVATE` (PS3.15 Table E.3.10-1, Retain Safe
  Private Option), and private creators with nothing left are removed with them.

The run's record (counts per attribute class and action) holds no values.
"""

from __future__ import annotations

from collections import Counter, abc
from dataclasses import dataclass, field
from datetime import date, timedelta

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import UID_dictionary  # type: ignore[attr-defined]  # pydicom.uid imports it without re-exporting

from imaging.deid.keys import UidMap
from imaging.deid.table import DateOption, Profile, method_codes, resolve_action
from imaging.deid.text import TextScrubber

__all__ = ["SAFE_PRIVATE", "DicomDeidentifier", "PatientContext", "burned_in_reason"]

DUMMY_TEXT = "ANONYMIZED"
DUMMY_DATE = "19000101"
DUMMY_TIME = "000000"

# PS3.15 Table E.3.10-1 (Safe Private Attributes): (private creator, element offset) -> meaning. Diffusion
# attributes of MR, needed to read a diffusion series; nothing identifying.
SAFE_PRIVATE: dict[tuple[str, int, int], str] = {
    ("SIEMENS MR HEADER", 0x0019, 0x0C): "B_value",
    ("SIEMENS MR HEADER", 0x0019, 0x0D): "DiffusionDirectionality",
    ("SIEMENS MR HEADER", 0x0019, 0x0E): "DiffusionGradientDirection",
    ("SIEMENS MR HEADER", 0x0019, 0x27): "B_matrix",
    ("GEMS_PARM_01", 0x0043, 0x39): "Slop_int_6...slop_int_9 (b-value)",
    ("Philips Imaging DD 001", 0x2001, 0x03): "Diffusion B-Factor",
    ("Philips Imaging DD 001", 0x2001, 0x04): "Diffusion Direction",
}

_TEXT_VRS = frozenset({"SH", "LO", "ST", "LT", "UT", "UC"})
_MAX_LEN = {"SH": 16, "LO": 64, "ST": 1024, "LT": 10240, "CS": 16, "AE": 16, "PN": 64, "UC": 0, "UT": 0}
_NUMBER_VRS = frozenset({"US", "UL", "SS", "SL", "FL", "FD", "UV", "SV"})
# Text elements whose values are codes and their standard meanings: left as they are.
_CODED = frozenset({"CodeValue", "LongCodeValue", "URNCodeValue", "CodingSchemeDesignator", "CodeMeaning",
                    "CodingSchemeVersion", "ContextIdentifier", "MappingResource", "CodingSchemeName",
                    "CodingSchemeResponsibleOrganization", "SpecificCharacterSet"})
_FREE_TEXT_ENDINGS = ("Label", "Description", "Comments", "Comment", "Text", "Notes", "Identifier", "Name",
                      "Narrative", "Impressions", "Explanation")
# UI elements that name a class, a scheme or a syntax, never an instance: kept when the table does not list them.
_UID_KEEP_ENDINGS = ("ClassUID", "SchemeUID", "SyntaxUID", "ContextUID", "ResourceUID", "CreatorUID",
                     "TemplateUID", "ImplementationClassUID")
_OWN_MARKERS = frozenset({"PatientIdentityRemoved", "DeidentificationMethod", "DeidentificationMethodCodeSequence",
                          "LongitudinalTemporalInformationModified"})

# SOP classes whose pixels usually carry burned-in text or a face: Secondary Capture, ultrasound, visible
# light photographs and video, encapsulated documents.
_BURNED_IN_CLASSES: dict[str, str] = {
    "1.2.840.10008.5.1.4.1.1.7": "a Secondary Capture image (screenshots usually carry burned-in text)",
    "1.2.840.10008.5.1.4.1.1.7.1": "a Secondary Capture image (screenshots usually carry burned-in text)",
    "1.2.840.10008.5.1.4.1.1.7.2": "a Secondary Capture image (screenshots usually carry burned-in text)",
    "1.2.840.10008.5.1.4.1.1.7.3": "a Secondary Capture image (screenshots usually carry burned-in text)",
    "1.2.840.10008.5.1.4.1.1.7.4": "a Secondary Capture image (screenshots usually carry burned-in text)",
    "1.2.840.10008.5.1.4.1.1.6.1": "an ultrasound image (ultrasound images usually carry burned-in patient data)",
    "1.2.840.10008.5.1.4.1.1.6.2": "an ultrasound image (ultrasound images usually carry burned-in patient data)",
    "1.2.840.10008.5.1.4.1.1.3.1": "an ultrasound image (ultrasound images usually carry burned-in patient data)",
    "1.2.840.10008.5.1.4.1.1.104.1": "an encapsulated PDF (its text cannot be checked)",
    "1.2.840.10008.5.1.4.1.1.104.2": "an encapsulated CDA document (its text cannot be checked)",
    "1.2.840.10008.5.1.4.1.1.77.1.1.1": "a video endoscopic image (may show burned-in text)",
    "1.2.840.10008.5.1.4.1.1.77.1.4": "a visible light photograph (may show a face or a label)",
    "1.2.840.10008.5.1.4.1.1.77.1.4.1": "a visible light photograph (may show a face or a label)",
}


def burned_in_reason(ds: Dataset) -> str | None:
    """Why the pixels of ``ds`` may show identifying text (None when nothing says so): BurnedInAnnotation
    YES, a screen-save image type, or an SOP class known to carry it."""
    if str(ds.get("BurnedInAnnotation", "")).strip().upper() == "YES":
        return "BurnedInAnnotation is YES (the pixels show identifying text)"
    image_type = [str(v).upper() for v in (ds.get("ImageType") or [])]
    if "SCREEN SAVE" in image_type:
        return "the image type says SCREEN SAVE (a screenshot usually carries burned-in text)"
    return _BURNED_IN_CLASSES.get(str(ds.get("SOPClassUID", "")))


@dataclass(frozen=True)
class PatientContext:
    """One patient of the run: the key value (original Patient ID), pseudonym and date shift."""

    key_value: str
    pseudonym: str
    shift: timedelta


@dataclass
class DicomDeidentifier:
    """Applies the profile to datasets (in place). ``readers``: case reader names (casefolded, no carets)
    -> pseudonym, so an SR's observer matches the case's reader. ``counts``: (attribute class, action) ->
    number of elements, over every dataset done."""

    uid: UidMap
    profile: Profile
    scrubber: TextScrubber
    readers: dict[str, str] = field(default_factory=dict)
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)

    # -- public --------------------------------------------------------------------------------------------
    def deidentify(self, ds: Dataset, patient: PatientContext, location: str) -> Dataset:
        """De-identify ``ds`` (and its file meta) in place for ``patient``; returns it."""
        self._patient = patient
        self.scrubber.shift = patient.shift
        for kw in _OWN_MARKERS:
            if kw in ds:
                delattr(ds, kw)
        self._walk(ds, location, structured=False)
        self._mark(ds)
        meta = getattr(ds, "file_meta", None)
        if meta is not None:
            if "SOPInstanceUID" in ds:
                meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
            for kw in ("SourceApplicationEntityTitle", "SendingApplicationEntityTitle",
                       "ReceivingApplicationEntityTitle", "PrivateInformationCreatorUID", "PrivateInformation"):
                if kw in meta:
                    delattr(meta, kw)
        return ds

    def person_name(self, value: str) -> str:
        """The dummy of a person name: the reader's pseudonym when it names a case reader."""
        norm = " ".join(value.replace("^", " ").split()).casefold()
        return self.readers.get(norm, DUMMY_TEXT) + "^"

    # -- the walk --------------------------------------------------------------------------------------------
    def _walk(self, ds: Dataset, location: str, *, structured: bool) -> None:
        self._private(ds)
        for tag in list(ds.keys()):
            if tag.is_private or tag.group == 0x0002:
                continue
            elem = ds[tag]
            self._element(ds, elem, location, structured)

    def _element(self, ds: Dataset, elem: DataElement, location: str, structured: bool) -> None:
        vr = elem.VR
        kw = elem.keyword
        where = f"{location} {kw or elem.tag}"
        if kw in ("PatientName", "PatientID"):
            # A one-component person name keeps its caret (PS3.5 6.2: no "retired" name form).
            elem.value = self._patient.pseudonym + ("^" if vr == "PN" else "")
            self._count(elem, "replaced by the pseudonym")
            return
        if kw == "BurnedInAnnotation":
            return
        has_value = (len(elem.value) > 0) if vr == "SQ" else not elem.is_empty
        action = resolve_action(elem.tag, vr, self.profile, has_value=has_value)
        if action is None:
            self._unlisted(ds, elem, where, structured)
            return
        if action == "K":
            self._count(elem, "kept")
            if vr == "SQ":
                self._items(elem, where, structured)
        elif action == "X":
            del ds[elem.tag]
            self._count(elem, "removed")
        elif action == "Z":
            self._empty(elem)
            self._count(elem, "emptied")
        elif action == "U":
            self._replace_uids(elem)
            self._count(elem, "UID replaced")
        elif action == "U*":
            self._items(elem, where, structured)
            self._count(elem, "kept, UIDs inside replaced")
        elif action == "D":
            if vr == "SQ":
                for item in elem.value:
                    self._dummy_item(item)
            else:
                self._dummy(elem)
            self._count(elem, "replaced by a dummy")
        elif action == "C":
            self._clean(ds, elem, where)
        else:  # pragma: no cover - resolve_action returns only the codes above
            raise ValueError(action)

    def _unlisted(self, ds: Dataset, elem: DataElement, where: str, structured: bool) -> None:
        vr, kw = elem.VR, elem.keyword
        if vr == "SQ":
            self._items(elem, where, structured)
        elif vr == "UI":
            if not elem.is_empty and not kw.endswith(_UID_KEEP_ENDINGS):
                values = _values(elem)
                if any(str(v) not in UID_dictionary for v in values):
                    self._replace_uids(elem)
                    self._count(elem, "UID replaced (not in the table)")
        elif vr in ("DA", "DT"):
            if self.profile.dates is DateOption.SHIFT:
                self._shift(elem)
                self._count(elem, "date shifted (not in the table)")
            elif self.profile.dates is DateOption.REMOVE and not elem.is_empty:
                self._dummy(elem)
                self._count(elem, "replaced by a dummy (not in the table)")
        elif vr == "PN":
            if not elem.is_empty:
                self._dummy(elem)
                self._count(elem, "replaced by a dummy (not in the table)")
        elif vr in _TEXT_VRS and not elem.is_empty and kw not in _CODED:
            patterns = structured or kw.endswith(_FREE_TEXT_ENDINGS)
            if self._scrub_element(elem, where, patterns=patterns):
                self._count(elem, "text cleaned")

    # -- actions ---------------------------------------------------------------------------------------------
    def _items(self, elem: DataElement, where: str, structured: bool) -> None:
        for i, item in enumerate(elem.value):
            self._walk(item, f"{where}[{i}]", structured=structured)

    def _clean(self, ds: Dataset, elem: DataElement, where: str) -> None:
        vr = elem.VR
        if vr == "SQ":
            self._items(elem, where, structured=True)
            self._count(elem, "cleaned")
        elif vr in ("DA", "DT"):
            self._shift(elem)
            self._count(elem, "date shifted")
        elif vr in ("OB", "OW", "UN"):  # Frame Origin Timestamp: binary, cannot be shifted here
            del ds[elem.tag]
            self._count(elem, "removed")
        elif vr in _TEXT_VRS or vr == "PN":
            self._scrub_element(elem, where, patterns=True)
            self._count(elem, "cleaned")
        else:
            self._count(elem, "kept")

    def _scrub_element(self, elem: DataElement, where: str, *, patterns: bool) -> bool:
        values = _values(elem)
        new = [self.scrubber.scrub(str(v), where, patterns=patterns) if v is not None else v for v in values]
        limit = _MAX_LEN.get(elem.VR, 0)
        if limit:
            new = [v[:limit] if isinstance(v, str) else v for v in new]
        if new == [str(v) if v is not None else v for v in values]:
            return False
        _set_values(elem, new)
        return True

    def _empty(self, elem: DataElement) -> None:
        if elem.VR == "SQ":
            elem.value = Sequence([])
        elif elem.VR in _NUMBER_VRS or elem.VR in ("OB", "OW", "OF", "OD", "OL", "OV", "UN", "AT"):
            elem.value = None
        else:
            elem.value = ""

    def _dummy(self, elem: DataElement) -> None:
        vr = elem.VR
        if elem.is_empty:
            return
        if vr == "UI":
            self._replace_uids(elem)
        elif vr == "PN":
            _set_values(elem, [self.person_name(str(v)) for v in _values(elem)])
        elif vr in ("DA", "DT"):
            elem.value = self._date_value(DUMMY_DATE, elem)
        elif vr == "TM":
            elem.value = DUMMY_TIME
        elif vr in ("IS", "DS"):
            elem.value = "0"
        elif vr in _NUMBER_VRS:
            elem.value = 0
        elif vr == "AS":
            elem.value = "000Y"
        elif vr in ("OB", "OW", "UN", "OF", "OD", "OL", "OV"):
            elem.value = b"\x00\x00"
        else:
            elem.value = DUMMY_TEXT[: _MAX_LEN.get(vr, 0) or None]

    def _date_value(self, dummy: str, elem: DataElement) -> str:
        """A dummy date for a D action: the shifted date under the Modified Dates option (so intervals hold
        even for attributes the option does not list), the dummy otherwise."""
        if self.profile.dates is DateOption.SHIFT:
            shifted = [_shift_text(str(v), self._patient.shift, elem.VR) for v in _values(elem)]
            if all(shifted):
                return "\\".join(s for s in shifted if s)
        return dummy

    def _dummy_item(self, item: Dataset) -> None:
        """Replace every value in a sequence item by a dummy (D on a sequence: the structure stays valid,
        nothing of the original text stays)."""
        self._private(item)
        for tag in list(item.keys()):
            if tag.is_private:
                continue
            elem = item[tag]
            if elem.VR == "SQ":
                for sub in elem.value:
                    self._dummy_item(sub)
            elif elem.VR in _TEXT_VRS or elem.VR in ("PN", "CS", "UI", "DA", "DT", "TM", "AS"):
                self._dummy(elem)

    def _replace_uids(self, elem: DataElement) -> None:
        values = _values(elem)
        _set_values(elem, [self.uid(str(v)) if v else v for v in values])

    def _shift(self, elem: DataElement) -> None:
        if elem.is_empty:
            return
        values = [_shift_text(str(v), self._patient.shift, elem.VR) for v in _values(elem)]
        if any(v is None for v in values):  # a value that is not a date: nothing of it may stay
            _set_values(elem, [DUMMY_DATE] * len(values))
            return
        _set_values(elem, values)

    def _private(self, ds: Dataset) -> None:
        creators: dict[tuple[int, int], str] = {}
        for tag in list(ds.keys()):
            if tag.is_private and 0x0010 <= tag.element <= 0x00FF:
                creators[(tag.group, tag.element)] = str(ds[tag].value).strip()
        kept_blocks: set[tuple[int, int]] = set()
        for tag in list(ds.keys()):
            if not tag.is_private or tag.element <= 0x00FF:
                continue
            block = (tag.group, tag.element >> 8)
            creator = creators.get(block, "")
            if (creator, tag.group, tag.element & 0xFF) in SAFE_PRIVATE:
                kept_blocks.add(block)
                self.counts[("private attributes", "kept (safe private)")] += 1
            else:
                del ds[tag]
                self.counts[("private attributes", "removed")] += 1
        for block in creators:
            if block not in kept_blocks:
                del ds[(block[0] << 16) | block[1]]
                self.counts[("private attributes", "removed")] += 1
        for tag in list(ds.keys()):  # a private group length or an element of a group without a creator
            if tag.is_private and tag.element < 0x0010:
                del ds[tag]

    def _mark(self, ds: Dataset) -> None:
        ds.PatientIdentityRemoved = "YES"
        ds.DeidentificationMethod = "PS3.15 E.1 Basic Profile (SpineCase); options coded"
        items = []
        for code in method_codes(self.profile):
            item = Dataset()
            item.CodeValue = code.value
            item.CodingSchemeDesignator = code.scheme
            item.CodeMeaning = code.meaning
            items.append(item)
        ds.DeidentificationMethodCodeSequence = Sequence(items)
        if "PixelData" in ds or "FloatPixelData" in ds or "DoubleFloatPixelData" in ds:
            ds.LongitudinalTemporalInformationModified = {
                DateOption.SHIFT: "MODIFIED", DateOption.KEEP: "UNMODIFIED", DateOption.REMOVE: "REMOVED"
            }[self.profile.dates]

    def _count(self, elem: DataElement, action: str) -> None:
        self.counts[(_attribute_class(elem), action)] += 1


def _attribute_class(elem: DataElement) -> str:
    vr, group = elem.VR, elem.tag.group
    if elem.keyword in ("PatientName", "PatientID") or group == 0x0010:
        return "patient identification and characteristics"
    if vr == "UI":
        return "UIDs"
    if vr in ("DA", "DT", "TM") or elem.keyword == "FrameOriginTimestamp":
        return "dates and times"
    if vr == "PN":
        return "person names"
    if vr == "SQ":
        return "sequences (structured content, references, codes)"
    if vr in _TEXT_VRS:
        return "descriptors and other text"
    return "other attributes"


def _values(elem: DataElement) -> list[object]:
    v = elem.value
    if v is None:
        return []
    if isinstance(v, (list, tuple)) or type(v).__name__ == "MultiValue":
        return list(v)
    return [v]


def _set_values(elem: DataElement, values: abc.Sequence[object]) -> None:
    elem.value = values[0] if len(values) == 1 else values


def _shift_text(text: str, shift: timedelta, vr: str) -> str | None:
    """A DA (YYYYMMDD) or DT value shifted by whole days; a DT keeps only its date (times of day are not
    retained). None when ``text`` is not a date."""
    text = text.strip()
    try:
        d = date(int(text[0:4]), int(text[4:6]), int(text[6:8]))
    except (ValueError, IndexError):
        return None
    if len(text) < 8 or not text[:8].isdigit():
        return None
    return (d + shift).strftime("%Y%m%d")

