"""PS3.15 Annex E Table E.1-1: what the Basic Application Level Confidentiality Profile does to each attribute,
with the options SpineCase applies. Qt-free.

Source of the Basic Profile column: the maintained ``dicom-anonymizer`` package (Kitware; BSD), whose
``dicomfields_2026c`` table is scraped from the current edition of DICOM PS3.15 Table E.1-1 (655 attributes,
repeating groups 50xx and 60xx included). ``tests/test_deid.py::test_table_rows_match_ps3_15`` checks rows of
it against the standard's text. The option columns are rules stated here, as the standard states them:

* Retain Longitudinal Temporal Information with Modified Dates (``C`` for every date and date-time of the
  table but the patient's birth date and time and the GPS time stamp); with Full Dates the same attributes
  are kept (``K``). SpineCase shifts dates by whole days and does not retain times of day: time (TM)
  attributes get the Basic Profile action, date-times keep only their (shifted) date.
* Clean Descriptors (``C`` for the descriptors listed in :data:`CLEAN_DESCRIPTORS`, the attributes marked
  ``C`` in the standard's "Clean Desc. Opt." column): kept, with identifying text replaced.
* Clean Structured Content (Content Sequence, Acquisition Context Sequence, Specimen Preparation Sequence)
  and Clean Graphics (Graphic Annotation Sequence, overlay comments): kept and cleaned item by item, so a
  measurement SR keeps its measurements.

Action codes (PS3.15 E.1.1): ``X`` remove, ``Z`` zero length (or dummy), ``D`` dummy value, ``U`` UID
replaced consistently, ``K`` keep, ``C`` clean; combined codes (``X/Z``, ``X/D``, ``Z/D``, ``X/Z/D``,
``X/Z/U*``) are resolved by :func:`resolve_action`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from functools import cache

from pydicom.datadict import dictionary_VR, keyword_for_tag, tag_for_keyword
from pydicom.sr.codedict import codes
from pydicom.tag import BaseTag, Tag

__all__ = [
    "CLEAN_DESCRIPTORS",
    "CLEAN_GRAPHICS",
    "CLEAN_STRUCTURED_CONTENT",
    "DateOption",
    "MethodCode",
    "Profile",
    "basic_profile_action",
    "method_codes",
    "resolve_action",
    "table_rows",
]

TABLE_EDITION = "dicomfields_2026c"
"""The edition of Table E.1-1 read from ``dicom-anonymizer`` (its module name)."""


class DateOption(Enum):
    """What happens to dates: removed per the Basic Profile, kept, or shifted per patient."""

    REMOVE = "basic"
    KEEP = "retain-dates"
    SHIFT = "retain-longitudinal"


@dataclass(frozen=True)
class Profile:
    """The profile and options of a de-identification run.

    ``dates``: see :class:`DateOption`. ``keep_burned_in``: write images flagged as carrying burned-in
    annotation anyway (refused by default). Clean Descriptors, Clean Structured Content and Clean Graphics
    are always applied (SpineCase keeps series descriptions, SR content and labels, cleaned)."""

    dates: DateOption = DateOption.SHIFT
    keep_burned_in: bool = False

    @property
    def name(self) -> str:
        return self.dates.value

    @classmethod
    def named(cls, name: str, keep_burned_in: bool = False) -> Profile:
        """``basic``, ``retain-dates`` or ``retain-longitudinal`` (ValueError otherwise)."""
        for option in DateOption:
            if option.value == name:
                return cls(option, keep_burned_in)
        raise ValueError(f"unknown profile {name!r}: choose basic, retain-dates or retain-longitudinal")


# The attributes marked C in the "Clean Desc. Opt." column of Table E.1-1 (by keyword).
CLEAN_DESCRIPTORS: frozenset[str] = frozenset({
    "AcquisitionComments", "AcquisitionDeviceProcessingDescription", "AcquisitionProtocolDescription",
    "AdditionalPatientHistory", "AdmittingDiagnosesCodeSequence", "AdmittingDiagnosesDescription", "Allergies",
    "BeamDescription", "BolusDescription", "ClinicalTrialSeriesDescription", "ClinicalTrialTimePointDescription",
    "CommentsOnThePerformedProcedureStep", "CompensatorDescription", "ConceptualVolumeCombinationDescription",
    "ConceptualVolumeDescription", "ContainerDescription", "ContrastBolusAgent", "ContributionDescription",
    "DecompositionDescription", "DerivationDescription", "DeviceSettingDescription", "DischargeDiagnosisDescription",
    "DoseReferenceDescription", "EntityDescription", "EntityLabel", "EntityLongLabel", "EntityName",
    "EquipmentFrameOfReferenceDescription", "FixationDeviceDescription", "FractionationNotes",
    "FractionGroupDescription", "FrameComments", "IdentifyingComments", "ImageComments",
    "ImagingServiceRequestComments", "Impressions", "InterpretationDiagnosisDescription", "InterpretationText",
    "LabelText", "LongDeviceDescription", "MakerNote", "MedicalAlerts", "MultienergyAcquisitionDescription",
    "Occupation", "PatientComments", "PatientState", "PerformedProcedureStepDescription", "PrescriptionDescription",
    "PrescriptionNotes", "PrescriptionNotesSequence", "PriorTreatmentDoseDescription", "ProtocolName",
    "RadiationDoseIdentificationLabel", "RadiationDoseInVivoMeasurementLabel",
    "RadiationGenerationModeDescription", "RadiationGenerationModeLabel", "ReasonForOmissionDescription",
    "ReasonForRequestedProcedureCodeSequence", "ReasonForStudy", "ReasonForSuperseding",
    "ReasonForTheImagingServiceRequest", "ReasonForTheRequestedProcedure", "ReasonForVisit",
    "ReasonForVisitCodeSequence", "RequestAttributesSequence", "RequestedContrastAgent",
    "RequestedProcedureComments", "RequestedProcedureDescription",
    "RespiratoryMotionCompensationTechniqueDescription", "ResultsComments", "RTPhysicianIntentNarrative",
    "RTPlanDescription", "RTPlanLabel", "RTPlanName", "RTPrescriptionLabel", "RTToleranceSetLabel",
    "RTTreatmentApproachLabel", "ScheduledProcedureStepDescription", "SeriesDescription",
    "ServiceEpisodeDescription", "SetupTechniqueDescription", "ShieldingDeviceDescription",
    "SpecimenDetailedDescription", "SpecimenShortDescription", "StudyComments", "StudyDescription",
    "TreatmentPositionGroupLabel", "TreatmentSite", "TreatmentTechniqueNotes", "UserContentLabel",
    "UserContentLongLabel", "VisitComments",
})
CLEAN_STRUCTURED_CONTENT: frozenset[str] = frozenset({
    "ContentSequence", "AcquisitionContextSequence", "SpecimenPreparationSequence"})
CLEAN_GRAPHICS: frozenset[str] = frozenset({"GraphicAnnotationSequence"})
# Dates the date options leave out (Table E.1-1 gives them no C in either date option column).
_NOT_LONGITUDINAL: frozenset[int] = frozenset({0x00100030, 0x00100032, 0x00160077})  # birth date/time, GPS
_EXTRA_LONGITUDINAL: frozenset[int] = frozenset({0x00340007})  # Frame Origin Timestamp (OB)

_CATEGORY_CODES = {"D_TAGS": "D", "Z_TAGS": "Z", "X_TAGS": "X", "U_TAGS": "U", "Z_D_TAGS": "Z/D",
                   "X_Z_TAGS": "X/Z", "X_D_TAGS": "X/D", "X_Z_D_TAGS": "X/Z/D", "X_Z_U_STAR_TAGS": "X/Z/U*"}


@cache
def _table() -> tuple[dict[int, str], tuple[tuple[int, int, int, int, str], ...]]:
    """(exact tag -> code, masked rows (group, element, group mask, element mask, code))."""
    from dicomanonymizer.dicomfields_selector import dicom_anonymization_database_selector

    db = dicom_anonymization_database_selector(TABLE_EDITION)
    exact: dict[int, str] = {}
    masked: list[tuple[int, int, int, int, str]] = []
    for category, code in _CATEGORY_CODES.items():
        for row in db[category]:
            if len(row) == 2:
                exact[(row[0] << 16) | row[1]] = code
            else:
                masked.append((row[0], row[1], row[2], row[3], code))
    return exact, tuple(masked)


def table_rows() -> dict[int, str]:
    """Every exact-tag row of Table E.1-1: tag (int) -> Basic Profile code ("X", "Z/D", ...)."""
    return dict(_table()[0])


def basic_profile_action(tag: BaseTag | int) -> str | None:
    """The Basic Profile code of ``tag`` in Table E.1-1, or None when the table does not list it. Private
    attributes (odd groups) are not answered here: see :mod:`imaging.deid.dicom`."""
    tag = Tag(tag)
    exact, masked = _table()
    code = exact.get(int(tag))
    if code is not None:
        return code
    for group, element, gmask, emask, mcode in masked:
        if (tag.group & gmask) == group and (tag.element & emask) == (element & emask):
            return mcode
    return None


def _keyword(tag: BaseTag) -> str:
    try:
        return keyword_for_tag(tag) or ""
    except Exception:  # noqa: BLE001 - unknown tags have no keyword
        return ""


def _vr(tag: BaseTag) -> str:
    try:
        return dictionary_VR(tag)
    except KeyError:
        return ""


def is_longitudinal(tag: BaseTag | int) -> bool:
    """True for the dates and date-times the Retain Longitudinal Temporal Information options act on."""
    tag = Tag(tag)
    if int(tag) in _NOT_LONGITUDINAL:
        return False
    if int(tag) in _EXTRA_LONGITUDINAL:
        return True
    return _vr(tag) in ("DA", "DT")


def resolve_action(tag: BaseTag | int, vr: str, profile: Profile, *, has_value: bool) -> str | None:
    """The single action (``X``, ``Z``, ``D``, ``U``, ``K``, ``C`` or ``U*`` for a sequence whose UIDs are
    replaced) SpineCase applies to an attribute, or None when Table E.1-1 does not list it.

    Options first (dates, Clean Descriptors, Clean Structured Content, Clean Graphics). A combined code is
    resolved without per-IOD type tables, always to a conformant choice: a sequence keeps its items with
    their UIDs replaced (``U*``) or is emptied (``Z``) or cleaned item by item (``D``); another attribute
    with a value gets a dummy (``D``) where the code allows one (valid for a Type 1 attribute), else is
    emptied (``Z``, valid for Types 2 and 3), else removed.
    """
    tag = Tag(tag)
    code = basic_profile_action(tag)
    if code is None:
        return None
    keyword = _keyword(tag)
    if is_longitudinal(tag) and vr in ("DA", "DT", "OB"):
        if profile.dates is DateOption.SHIFT:
            return "C"
        if profile.dates is DateOption.KEEP:
            return "K"
    if keyword in CLEAN_DESCRIPTORS or keyword in CLEAN_STRUCTURED_CONTENT or keyword in CLEAN_GRAPHICS:
        return "C"
    if (tag.group & 0xFF00) == 0x6000 and tag.element == 0x4000:  # Overlay Comments: Clean Graphics
        return "C"
    if "/" not in code:
        return code
    parts = code.split("/")
    if vr == "SQ":
        if "U*" in parts:
            return "U*"
        if "Z" in parts:
            return "Z"
        return "D" if "D" in parts else "X"
    if "D" in parts and has_value:
        return "D"
    if "Z" in parts:
        return "Z"
    return "D" if "D" in parts else "X"


@dataclass(frozen=True)
class MethodCode:
    """A CID 7050 code (De-identification Method) as written in DeidentificationMethodCodeSequence."""

    value: str
    scheme: str
    meaning: str


def _code(name: str) -> MethodCode:
    c = getattr(codes.cid7050, name)
    return MethodCode(c.value, c.scheme_designator, c.meaning)


def method_codes(profile: Profile) -> list[MethodCode]:
    """The CID 7050 codes of the profile and options a run applies (pydicom's code dictionary)."""
    out = [_code("BasicApplicationConfidentialityProfile")]
    if profile.dates is DateOption.SHIFT:
        out.append(_code("RetainLongitudinalTemporalInformationModifiedDatesOption"))
    elif profile.dates is DateOption.KEEP:
        out.append(_code("RetainLongitudinalTemporalInformationFullDatesOption"))
    out += [_code("CleanDescriptorsOption"), _code("CleanStructuredContentOption"), _code("CleanGraphicsOption"),
            _code("RetainSafePrivateOption")]
    return out


def keyword_tag(keyword: str) -> int:
    """The tag of a DICOM keyword (KeyError when unknown)."""
    tag = tag_for_keyword(keyword)
    if tag is None:
        raise KeyError(keyword)
    return int(tag)
