"""The coded concepts of SpineCase's DICOM SRs that belong to the case model (anatomy, levels, lesion types,
involvement, histology, units). Qt-free.

:mod:`imaging.case.export_sr` writes with them, :mod:`imaging.case.sr_import` reads with them and
``docs/dicom-interop.md`` documents them (a test checks that every local code is documented). What belongs to
one measurement kind or one score lives in its registry spec instead: a kind's value concepts, Cornerstone3D
tool and graphics in :mod:`imaging.measurement_kinds`, a score's items (Bilsky, SINS...) in
:mod:`imaging.scores`.

Standard codes come from pydicom's code dictionary (SNOMED CT "SCT", DICOM "DCM", UCUM), so none is typed
by hand. Where no standard code exists, or none could be verified from the code tables at hand, the private
coding scheme :data:`~imaging.coding.LOCAL_SCHEME` ("99SPINECASE", declared in each SR's Coding Scheme
Identification Sequence) is used (:func:`imaging.coding.local_code`): lesion types, the level and
involvement text items, T13/L6, the psoas muscle and the epidural space (no SNOMED CT code for them is in
pydicom's tables or the DICOM context groups; the adrenal gland, sacrum, retroperitoneum, occipital bone are
SNOMED CT).
"""

from __future__ import annotations

import highdicom as hd
from pydicom.sr.codedict import codes

from imaging.coding import LOCAL_SCHEME, Code, local_code
from imaging.measurement_kinds import ValueSpec

__all__ = [
    "FINDING_LABEL_PREFIX", "FINDING_SITE_CODES", "HISTOLOGY_CONCEPT", "INTENSITY_CONCEPTS", "INVOLVEMENT_CONCEPT",
    "LATERALITY_CODES", "LESION_TYPE_CODES", "LESION_TYPE_CONCEPT", "LEVELS_CONCEPT", "LOCAL_SCHEME",
    "PLANE_CONCEPT", "code", "level_code", "level_of_code", "sr_unit",
]


def code(c: Code) -> hd.sr.CodedConcept:
    """A pydicom ``Code`` as highdicom's :class:`CodedConcept` (for the few highdicom APIs that want one)."""
    return hd.sr.CodedConcept(value=c.value, scheme_designator=c.scheme_designator, meaning=c.meaning)


# -- finding-level concepts -------------------------------------------------------------------------------
LESION_TYPE_CONCEPT = local_code("LESIONTYPE", "Lesion type")
LESION_TYPE_CODES: dict[str, Code] = {
    "lytic": local_code("LYTIC", "Lytic"), "blastic": local_code("BLASTIC", "Blastic"),
    "mixed": local_code("MIXED", "Mixed lytic and blastic"), "lipomatous": local_code("LIPOMATOUS", "Lipomatous"),
    "marrow_replacing": local_code("MARROWREPLACING", "Marrow-replacing"),
}
LEVELS_CONCEPT = local_code("LEVELS", "Vertebral levels")
"""TEXT item with the level range ("T5-T6"): dcmqi keeps one Finding Site per group but every TEXT item."""
INVOLVEMENT_CONCEPT = local_code("INVOLVEMENT", "Involvement at vertebral level")
"""TEXT item per level, ``"T5: lamina, spinous process"`` (sector names of imaging.case.findings)."""
HISTOLOGY_CONCEPT = local_code("HISTOLOGY", "Histology as reported")
PLANE_CONCEPT = local_code("PLANE", "Image plane")
"""TEXT item of a measurement group: the plane it was drawn on (axial, sagittal, coronal, oblique)."""
FINDING_LABEL_PREFIX = "SpineCase finding"
"""Tracking Identifier of a finding group: ``"SpineCase finding: <label>"``."""

# -- anatomy -----------------------------------------------------------------------------------------------
FINDING_SITE_CODES: dict[str, Code] = {
    "adrenal_gland": codes.SCT.AdrenalGland,
    "psoas_muscle": local_code("PSOAS", "Psoas muscle"),
    "paraspinal_muscle": codes.SCT.ErectorSpinaeMuscle,
    "retroperitoneum": codes.SCT.RetroperitonealSpace,
    "epidural_space": local_code("EPIDURAL", "Spinal epidural space"),
    "occipital_bone": codes.SCT.OccipitalBone,
}
"""Finding.site -> Finding Site code (the vertebrae of the levels when the site is None)."""
LATERALITY_CODES: dict[str, Code] = {"left": codes.SCT.Left, "right": codes.SCT.Right,
                                     "bilateral": codes.SCT.Bilateral}
_LOCAL_LEVEL_WORDS = {"S": "sacral", "T": "thoracic", "L": "lumbar"}


def level_code(level: str) -> Code:
    """The coded anatomic location of a vertebral level: SNOMED CT for C1-C7, T1-T12, L1-L5 (their vertebra
    codes), S1-S5 (the sacrum: SNOMED CT has no code per sacral segment in pydicom's tables) and the coccyx;
    the local scheme for the variants T13 and L6."""
    name = "Coccyx" if level == "Co" else "Sacrum" if level.startswith("S") else f"{level}Vertebra"
    if level not in ("T13", "L6") and hasattr(codes.SCT, name):
        found: Code = getattr(codes.SCT, name)
        return found
    return local_code(f"V{level}", f"{level} vertebra ({_LOCAL_LEVEL_WORDS.get(level[0], '')} level {level[1:]})")


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


# -- values: intensity concepts and units --------------------------------------------------------------------
INTENSITY_CONCEPTS: dict[str, Code] = {"HU": codes.DCM.AttenuationCoefficient, "": codes.DCM.MRSignalIntensity}
"""Concepts of intensity values (probe, ROI statistics) by unit: CT values are attenuation coefficients (HU),
others MR signal intensity (DCM 110852, arbitrary units)."""
_UNITS: dict[str, Code] = {
    "mm": codes.UCUM.Millimeter, "mm2": codes.UCUM.SquareMillimeter, "mm3": Code("mm3", "UCUM", "cubic millimeter"),
    "mL": Code("mL", "UCUM", "milliliter"), "deg": codes.UCUM.Degree, "HU": codes.UCUM.HounsfieldUnit,
    "voxels": Code("{voxels}", "UCUM", "voxels"), "score": Code("{score}", "UCUM", "score"),
}
_ARBITRARY = Code("[arb'U]", "UCUM", "arbitrary unit")
_NO_UNIT = Code("1", "UCUM", "no units")


def sr_unit(spec: ValueSpec | None, unit: str) -> Code:
    """The UCUM code of a value's unit: a ratio without a unit is "1", an intensity without one arbitrary
    units (MR), a count of voxels "{voxels}"."""
    if unit in _UNITS:
        return _UNITS[unit]
    if spec is not None and spec.dimension == "ratio" and not unit:
        return _NO_UNIT
    if spec is not None and spec.dimension == "count":
        return _UNITS["voxels"]
    return _ARBITRARY
