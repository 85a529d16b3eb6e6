"""Every coded concept SpineCase writes to (and reads from) DICOM SR, and the per-kind SR encoding. Qt-free.

One place for the codes: :mod:`imaging.case.export_sr` writes with them, :mod:`imaging.case.sr_import` reads
with them and ``docs/dicom-interop.md`` documents them (a test checks that every local code is documented).

Standard codes come from pydicom's code dictionary (SNOMED CT "SCT", DICOM "DCM", UCUM), so none is typed
by hand. Where no standard code exists, or none could be verified from the code tables at hand, the private
coding scheme :data:`LOCAL_SCHEME` ("99SPINECASE", declared in each SR's Coding Scheme Identification
Sequence) is used: the Bilsky grade and its values, the SINS answers, lesion types, the level text items,
the voxel count, T13/L6 and the psoas muscle (no SNOMED CT code for it is in pydicom's tables or the DICOM
context groups; the adrenal gland, sacrum, retroperitoneum, occipital bone are SNOMED CT).

:data:`SR_KINDS` is one entry per measurement kind (data, not code branches), so it can move into the
measurement-kind registry: the Cornerstone3D tool the kind is drawn with in OHIF, the Tracking Identifier
(Cornerstone3D's ``Cornerstone3DTools@^0.1.0:<Tool>`` convention, with a ``:SpineCase:<kind>`` suffix only
where two of our kinds share a tool), and the numeric items with the graphic each one is inferred from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import highdicom as hd
from pydicom.sr.codedict import codes

from imaging.spine.bilsky import BILSKY_GRADE_INFO
from imaging.spine.sins import (
    SinsAlignment,
    SinsBoneLesion,
    SinsCollapse,
    SinsLocation,
    SinsPain,
    SinsPosterolateral,
)

__all__ = [
    "BILSKY_CONCEPT", "BILSKY_GRADE_CODES", "BILSKY_LEVEL_CONCEPT", "BILSKY_SUGGESTED_CONCEPT",
    "CS3D_TAG", "FINDING_SITE_CODES", "HISTOLOGY_CONCEPT", "INVOLVEMENT_CONCEPT", "LATERALITY_CODES",
    "LESION_TYPE_CODES", "LESION_TYPE_CONCEPT", "LEVELS_CONCEPT", "LOCAL_SCHEME", "PLANE_CONCEPT",
    "SINS_ANSWER_CONCEPTS", "sins_answer_code", "sins_answer_of",
    "SINS_CONCEPT", "SR_KINDS", "SrKind", "SrValue", "VOXEL_COUNT_CONCEPT", "code", "local", "level_code",
    "level_of_code", "local_codes",
]

LOCAL_SCHEME = "99SPINECASE"
"""SpineCase's private coding scheme designator ("99" prefix: private, PS3.16 section 8.2)."""
CS3D_TAG = "Cornerstone3DTools@^0.1.0"
"""The Tracking Identifier prefix by which Cornerstone3D (OHIF) recognises its tools in an SR."""

CodedConcept = hd.sr.CodedConcept
_LOCAL: dict[str, CodedConcept] = {}


def local(value: str, meaning: str) -> CodedConcept:
    """A code of :data:`LOCAL_SCHEME` (registered, so :func:`local_codes` lists it for the docs)."""
    concept = CodedConcept(value=value, scheme_designator=LOCAL_SCHEME, meaning=meaning)
    _LOCAL.setdefault(value, concept)
    return concept


def code(c: object) -> CodedConcept:
    """A pydicom ``Code`` as highdicom's :class:`CodedConcept`."""
    return CodedConcept(value=c.value, scheme_designator=c.scheme_designator, meaning=c.meaning)  # type: ignore[attr-defined]


def local_codes() -> list[CodedConcept]:
    """Every local code defined here (for the documentation and its test)."""
    return list(_LOCAL.values())


# -- finding-level concepts -------------------------------------------------------------------------------
# Code meanings are LO (at most 64 characters): grades carry the short name from the one place the scale
# is defined (imaging.spine.bilsky); the full definitions are in the docs.
BILSKY_CONCEPT = local("BILSKY", "Bilsky epidural spinal cord compression grade")
BILSKY_SUGGESTED_CONCEPT = local("BILSKYSUG", "Bilsky grade suggested from contours")
BILSKY_LEVEL_CONCEPT = local("BILSKYLEVEL", "Vertebral level graded for Bilsky")
BILSKY_GRADE_CODES: dict[str, CodedConcept] = {
    g: local(f"BILSKY-{g}", f"Bilsky grade {g}: {info.short_name}") for g, info in BILSKY_GRADE_INFO.items()}
SINS_CONCEPT = local("SINS", "Spinal instability neoplastic score total")
SINS_ANSWER_CONCEPTS: dict[str, tuple[CodedConcept, type]] = {
    # SinsAssessment field -> (concept, enum of the answers). An answer's code is "<concept>-<points>" (unique
    # within each component; Code Value is SH, at most 16 characters), its meaning the published wording.
    "location_override": (local("SINS-LOC", "SINS location"), SinsLocation),
    "pain": (local("SINS-PAIN", "SINS pain"), SinsPain),
    "bone_lesion": (local("SINS-BONE", "SINS bone lesion"), SinsBoneLesion),
    "alignment": (local("SINS-ALIGN", "SINS radiographic spinal alignment"), SinsAlignment),
    "collapse": (local("SINS-COLLAPSE", "SINS vertebral body collapse"), SinsCollapse),
    "posterolateral": (local("SINS-PL", "SINS posterolateral involvement"), SinsPosterolateral),
}


def sins_answer_code(concept: CodedConcept, member: Any) -> CodedConcept:
    """The code of one SINS answer (an enum member of imaging.spine.sins)."""
    return local(f"{concept.value}-{member.points}", member.wording[:64])


def sins_answer_of(concept: CodedConcept, enum: type, value: str) -> str | None:
    """The enum member name an answer code stands for (None if it is not one)."""
    prefix = f"{concept.value}-"
    if not value.startswith(prefix) or not value[len(prefix):].isdigit():
        return None
    points = int(value[len(prefix):])
    return next((m.name for m in enum if m.points == points), None)  # type: ignore[attr-defined]


for _field, (_concept, _enum) in SINS_ANSWER_CONCEPTS.items():
    for _m in _enum:
        sins_answer_code(_concept, _m)
LESION_TYPE_CONCEPT = local("LESIONTYPE", "Lesion type")
LESION_TYPE_CODES: dict[str, CodedConcept] = {
    "lytic": local("LYTIC", "Lytic"), "blastic": local("BLASTIC", "Blastic"),
    "mixed": local("MIXED", "Mixed lytic and blastic"), "lipomatous": local("LIPOMATOUS", "Lipomatous"),
    "marrow_replacing": local("MARROWREPLACING", "Marrow-replacing"),
}
LEVELS_CONCEPT = local("LEVELS", "Vertebral levels")
"""TEXT item with the level range ("T5-T6"): dcmqi keeps one Finding Site per group but every TEXT item."""
INVOLVEMENT_CONCEPT = local("INVOLVEMENT", "Involvement at vertebral level")
"""TEXT item per level, ``"T5: lamina, spinous process"`` (sector names of imaging.case.findings)."""
HISTOLOGY_CONCEPT = local("HISTOLOGY", "Histology as reported")
VOXEL_COUNT_CONCEPT = local("VOXELCOUNT", "Number of voxels in region")
PLANE_CONCEPT = local("PLANE", "Image plane")
"""TEXT item of a measurement group: the plane it was drawn on (axial, sagittal, coronal, oblique)."""
FINDING_LABEL_PREFIX = "SpineCase finding"
"""Tracking Identifier of a finding group: ``"SpineCase finding: <label>"``."""

# -- anatomy -----------------------------------------------------------------------------------------------
FINDING_SITE_CODES: dict[str, CodedConcept] = {
    "adrenal_gland": code(codes.SCT.AdrenalGland),
    "psoas_muscle": local("PSOAS", "Psoas muscle"),
    "paraspinal_muscle": code(codes.SCT.ErectorSpinaeMuscle),
    "retroperitoneum": code(codes.SCT.RetroperitonealSpace),
    "epidural_space": local("EPIDURAL", "Spinal epidural space"),
    "occipital_bone": code(codes.SCT.OccipitalBone),
}
"""Finding.site -> Finding Site code (the vertebrae of the levels when the site is None)."""
LATERALITY_CODES: dict[str, CodedConcept] = {
    "left": code(codes.SCT.Left), "right": code(codes.SCT.Right), "bilateral": code(codes.SCT.Bilateral)}
_LOCAL_LEVEL_WORDS = {"S": "sacral", "T": "thoracic", "L": "lumbar"}


def level_code(level: str) -> CodedConcept:
    """The coded anatomic location of a vertebral level: SNOMED CT for C1-C7, T1-T12, L1-L5 (their vertebra
    codes), S1-S5 (the sacrum: SNOMED CT has no code per sacral segment in pydicom's tables) and the coccyx;
    the local scheme for the variants T13 and L6."""
    if level == "Co":
        return code(codes.SCT.Coccyx)
    if level.startswith("S"):
        return code(codes.SCT.Sacrum)
    name = f"{level}Vertebra"
    if level not in ("T13", "L6") and hasattr(codes.SCT, name):
        return code(getattr(codes.SCT, name))
    return local(f"V{level}", f"{level} vertebra ({_LOCAL_LEVEL_WORDS.get(level[0], '')} level {level[1:]})")


for _variant in ("T13", "L6"):
    level_code(_variant)


def level_of_code(designator: str, value: str, meaning: str = "") -> str | None:
    """The vertebral level a Finding Site code names (None for the sacrum as a whole, the coccyx's "Co",
    or a non-vertebral site). Reads SNOMED CT vertebra codes (also the legacy SRT designator) and ours."""
    from imaging.spine.levels import ALL_LEVELS

    if designator == LOCAL_SCHEME and value.startswith("V"):
        return value[1:]
    for lv in ALL_LEVELS:
        if lv.startswith("S"):
            continue
        c = level_code(lv)
        if c.value == value and (designator in ("SCT", "SRT") or designator == c.scheme_designator):
            return lv
    return None


# -- measurement kinds -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SrValue:
    """One numeric item of a kind's group: the :class:`~imaging.measure.MeasuredValue` name it carries, its
    concept, and the graphic (``graphic``: a key of :data:`GRAPHICS` in export_sr, or "" for no
    coordinates) it is inferred from."""

    name: str
    concept: CodedConcept | None  # None: chosen from the unit (attenuation / MR signal intensity)
    graphic: str = ""
    derivation: CodedConcept | None = None


@dataclass(frozen=True)
class SrKind:
    """How one measurement kind is encoded in a TID 1501 group (and recognised on import)."""

    kind: str
    tool: str  # the Cornerstone3D tool that draws and edits it in OHIF
    values: tuple[SrValue, ...]
    suffix: str = ""  # Tracking Identifier suffix where two kinds share a tool
    lesion: bool = True  # typed Finding = Neoplasm when it belongs to a finding (angle, Cobb, probe never)

    @property
    def tracking_identifier(self) -> str:
        return f"{CS3D_TAG}:{self.tool}{self.suffix}"


_STATS = (SrValue("mean", None, derivation=code(codes.SCT.Mean)),
          SrValue("sd", None, derivation=code(codes.SCT.StandardDeviation)),
          SrValue("min", None, derivation=code(codes.SCT.Minimum)),
          SrValue("max", None, derivation=code(codes.SCT.Maximum)),
          SrValue("voxel_count", VOXEL_COUNT_CONCEPT))
_AREA = code(codes.SCT.Area)
# Cornerstone3D finds a bidirectional's axes by the exact code meanings "Long Axis" / "Short Axis" (pydicom's
# dictionary spells them "Long axis"): same SNOMED CT codes, Cornerstone's spelling.
LONG_AXIS = CodedConcept(codes.SCT.LongAxis.value, "SCT", "Long Axis")
SHORT_AXIS = CodedConcept(codes.SCT.ShortAxis.value, "SCT", "Short Axis")
SR_KINDS: dict[str, SrKind] = {k.kind: k for k in (
    SrKind("length", "Length", (SrValue("length", code(codes.SCT.Length), "line"),)),
    SrKind("cc_extent", "Length", (SrValue("cc_extent", code(codes.DCM.Height), "line"),),
           suffix=":SpineCase:cc_extent"),
    SrKind("bidirectional", "Bidirectional", (SrValue("long_axis", LONG_AXIS, "long_axis"),
                                              SrValue("short_axis", SHORT_AXIS, "short_axis"))),
    SrKind("ellipse_roi", "EllipticalROI", (SrValue("area", _AREA, "ellipse"), *_STATS)),
    SrKind("polygon_roi", "PlanarFreehandROI", (SrValue("area", _AREA, "outline"), *_STATS),
           suffix=":SpineCase:polygon_roi"),
    SrKind("freehand_roi", "PlanarFreehandROI", (SrValue("area", _AREA, "outline"), *_STATS)),
    SrKind("angle", "Angle", (SrValue("angle", code(codes.SCT.Angle), "angle"),), lesion=False),
    SrKind("cobb", "CobbAngle", (SrValue("cobb_angle", code(codes.SCT.CobbAngle), "two_lines"),), lesion=False),
    SrKind("probe", "Probe", (SrValue("value", None, "point"),), lesion=False),
)}
"""Measurement kind -> its SR encoding (the first value carries the coordinates Cornerstone3D reads)."""

# Concepts of intensity values by unit: CT statistics are attenuation coefficients, MR ones MR signal
# intensity (DCM 110852); both in the unit the series has ("HU" / arbitrary).
INTENSITY_CONCEPTS: dict[str, CodedConcept] = {"HU": code(codes.DCM.AttenuationCoefficient),
                                               "": code(codes.DCM.MRSignalIntensity)}
UNITS: dict[str, CodedConcept] = {
    "mm": code(codes.UCUM.Millimeter), "mm2": code(codes.UCUM.SquareMillimeter), "deg": code(codes.UCUM.Degree),
    "HU": code(codes.UCUM.HounsfieldUnit), "": CodedConcept("[arb'U]", "UCUM", "arbitrary unit"),
    "voxels": CodedConcept("{voxels}", "UCUM", "voxels"), "score": CodedConcept("{score}", "UCUM", "score"),
}
