"""Series classification: what a hanging protocol needs to know about a series, from its headers only.

`classify_series(info)` returns a `SeriesClass`:

* ``plane`` -- "axial", "sagittal", "coronal", "oblique" (more than 30 degrees from every standard plane)
  or "unknown", from ImageOrientationPatient (`imaging.geometry.plane_name_from_orientation`);
* ``weighting`` (MR) -- "T1", "T2", "PD", "STIR", "FLAIR", "T2*", "DWI" or "ADC"; None when neither the
  names nor the timing say. Order of evidence: the enhanced-MR AcquisitionContrast (0008,9209); the names
  the scanner or technologist gave (SeriesDescription, ProtocolName, SequenceName -- e.g. Siemens
  ``t2_tirm_sag``, GE ``Sag STIR``, Philips ``sT1W_TSE``); then the timing (`WEIGHTING_TIMES`: EchoTime,
  RepetitionTime, InversionTime, DiffusionBValue, ScanningSequence). When a name and the timing disagree the
  name is kept and the disagreement is written into ``evidence``;
* ``dixon`` (MR) -- "water", "fat", "in-phase" or "opposed-phase" for the images of a Dixon acquisition
  (Siemens ``_W``/``_F``/``_in``/``_opp``, GE IDEAL/FLEX ``WATER:``, Philips mDIXON ``W``/``F``/``IP``/``OP``,
  or the ImageType values); ``fat_suppressed`` -- STIR, a Dixon water image, FS/SPAIR/SPIR/fat sat;
* ``contrast`` -- "post" (ContrastBolusAgent/Route filled, or the name says post/+C/Gd/KM), "pre" (the name
  says pre/native/without), else "none" (no contrast recorded anywhere);
* ``kernel`` (CT) -- "bone", "soft" or "lung", from the name ("Bone", "Std", "Lung"...), else from
  ConvolutionKernel (`kernel_from_name`); None when neither says;
* ``role`` -- "image" (an acquisition to read), "reformat" (a derived multiplanar reformat, MIP or MPR the
  scanner made: hung like an image of its plane), "map" (a parametric map such as ADC), "localizer" (a
  localiser, scout, survey or topogram), "calibration" (coil calibration) or "secondary" (a screen capture or
  dose report). Localisers, calibrations and secondary captures are never hung (`HANGABLE_ROLES`).

``evidence`` lists, in plain words, which header values gave each answer, so a reader (or
``spinecase info --json``) can see why. Header values are read through `imaging.protocols.headers` (every
value checked; nothing here trusts a header).

Research software, not a diagnostic device: a classification is a convenience for arranging views; the
reader sees the series description on every view.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from imaging.dicom.series import SeriesInfo
from imaging.geometry import plane_name_from_orientation
from imaging.protocols import headers as hdr

__all__ = [
    "HANGABLE_ROLES",
    "PLANES",
    "ROLES",
    "WEIGHTINGS",
    "WEIGHTING_TIMES",
    "SeriesClass",
    "classify_all",
    "classify_header",
    "classify_series",
    "kernel_from_name",
]

PLANES = ("axial", "sagittal", "coronal", "oblique", "unknown")
WEIGHTINGS = ("T1", "T2", "PD", "STIR", "FLAIR", "T2*", "DWI", "ADC")
ROLES = ("image", "reformat", "map", "localizer", "calibration", "secondary")
HANGABLE_ROLES = ("image", "reformat", "map")
"""Roles a protocol may place in a view. Localisers, calibrations and secondary captures never hang."""

WEIGHTING_TIMES = {
    # Conventional spin-echo / turbo spin-echo contrast from TR and TE (ms), as taught in MR physics texts
    # (e.g. McRobbie et al., "MRI from Picture to Proton", 3rd ed., Cambridge University Press 2017, ch. 4):
    # short TR and short TE give T1 weighting, long TR and long TE T2, long TR and short TE proton density.
    "t1_max_tr": 1000.0,
    "t1_max_te": 30.0,
    "long_tr": 1500.0,
    "t2_min_te": 60.0,
    "pd_max_te": 40.0,
    # Inversion recovery: a short inversion time nulls fat (STIR, TI ~ 100-250 ms at 1.5-3 T); a long one
    # nulls fluid (FLAIR, TI ~ 1800-2500 ms); in between the inversion prepares T1 contrast (MPRAGE, T1-FLAIR).
    "stir_max_ti": 300.0,
    "flair_min_ti": 1500.0,
}
"""Timing thresholds (ms) used only when the names do not say the weighting."""

# Plausible ranges: a value outside is not trusted at all (headers can hold anything).
_TE_RANGE = (0.0, 2000.0)
_TR_RANGE = (0.0, 100000.0)
_TI_RANGE = (0.0, 10000.0)
_B_RANGE = (0.0, 100000.0)


@dataclass(frozen=True)
class SeriesClass:
    """What a series is, for hanging protocols. See the module docstring for the values."""

    modality: str
    plane: str = "unknown"
    weighting: str | None = None
    dixon: str | None = None
    fat_suppressed: bool = False
    contrast: str = "none"
    kernel: str | None = None
    role: str = "image"
    evidence: tuple[str, ...] = field(default=())

    @property
    def hangable(self) -> bool:
        """True when a protocol may place this series in a view (never a localiser, calibration or capture)."""
        return self.role in HANGABLE_ROLES

    def label(self) -> str:
        """A short human label: "sag T2", "ax T1 post", "sag STIR", "CT ax bone", "localizer"."""
        if not self.hangable:
            return self.role
        plane = {"axial": "ax", "sagittal": "sag", "coronal": "cor"}.get(self.plane, self.plane)
        parts = [plane]
        if self.modality == "CT":
            parts.insert(0, "CT")
            if self.kernel:
                parts.append(self.kernel)
        else:
            if self.weighting:
                parts.append(self.weighting)
            if self.dixon:
                parts.append(f"Dixon {self.dixon}")
            elif self.fat_suppressed and self.weighting not in ("STIR",):
                parts.append("FS")
        if self.contrast == "post":
            parts.append("post")
        if self.role == "reformat":
            parts.append("reformat")
        return " ".join(parts)

    def as_json(self) -> dict[str, object]:
        d = asdict(self)
        d["evidence"] = list(self.evidence)
        return d


# ---------------------------------------------------------------------------------------------------------
# Name patterns (on names upper-cased, with _ - . / , : ; ( ) [ ] = turned into spaces)
# ---------------------------------------------------------------------------------------------------------
_SEPARATORS = re.compile(r"[_\-./,:;()\[\]=|]+")
_B = r"(?<![A-Z0-9])"  # start of a token
_E = r"(?![A-Z0-9])"  # end of a token

_LOCALIZER = re.compile(
    _B + r"(LOC|LOCS|LOCALI[SZ]ER\w*|LOCALISER|3 ?PL(?:ANE)?|TRI ?PILOT|SCOUT\w*|AAH? ?SCOUT|\w*SURVEY\w*|"
    r"SURVIEW|TOPOGRAM\w*|SCANOGRAM|PILOT|SMARTEXAM|MYELO ?LOC|POSITIONING)" + _E)
_CALIBRATION = re.compile(_B + r"(CAL|CALIBRATION|ASSET ?CAL|PURE ?CAL|COIL ?CAL|REF ?SCAN|SENSE ?REF\w*|"
                          r"COILSURVEYSCAN|PRESCAN\w*|B1 ?MAP)" + _E)
_SECONDARY = re.compile(_B + r"(DOSE ?REPORT|DOSE ?INFO\w*|PATIENT ?PROTOCOL|SCREEN ?SAVE|SCREENSHOT|"
                        r"SECONDARY ?CAPTURE|EXAM ?SUMMARY|PHOENIXZIPREPORT|EVIDENCE ?DOC\w*)" + _E)
_REFORMAT = re.compile(_B + r"(MPR|REFORMAT\w*|REFMT|MIP|MINIP|MAXIP|CPR|CURVED|VRT|MPVR|3D ?RECON\w*|"
                       r"RECON ?SAG|RECON ?COR|SAG ?RECON|COR ?RECON)" + _E)
_MAP = re.compile(_B + r"(ADC|EADC|EXP ?ADC|FA|COLFA|T1 ?MAP|T2 ?MAP|SUB|SUBTRACT\w*|MOCO ?SERIES)" + _E)

_DWI = re.compile(_B + r"(DWI|DW|DIFF\w*|TRACE\w*|EP2D ?DIFF|RESOLVE|ZOOMIT|B\d{2,4}|B ?VAL\w*|DWIBS)" + _E)
_ADC = re.compile(_B + r"(ADC|EADC|APPARENT ?DIFFUSION\w*)" + _E)
_STIR = re.compile(_B + r"(STIR\w*|TIRM|TIR|SPAIR ?STIR|T2 ?STIR)" + _E)
_FLAIR = re.compile(_B + r"(FLAIR\w*|DARK ?FLUID|DARKFLUID)" + _E)
_T2STAR = re.compile(_B + r"(T2\*W?|T2 ?STAR|T2S|MEDIC|MERGE|HEMO\w*|SWI|SWAN)" + _E)
# T1/T2 tokens: T1, T1W, T1WI, sT1W (Philips sagittal prefix), T1FS, T1C, T1+C -- but not the level T10-T12
# and not a level range such as "C7-T1" (the separator became a space; a level before it gives it away).
_LEVEL_BEFORE = r"(?<![CTLS]\d )(?<![CTLS]\d\d )"
_T1 = re.compile(_LEVEL_BEFORE + r"(?<![A-Z0-9])S?T1(?:W|WI|FS|C|RHO|SE|TSE|FSE)?(?![0-9A-Z])")
_T2 = re.compile(_LEVEL_BEFORE + r"(?<![A-Z0-9])S?T2(?:W|WI|FS|TSE|FSE|SE)?(?![0-9A-Z*])")
_PD = re.compile(_B + r"(PD|PDW|PDWI|PD ?W|PROTON ?DENSITY|PDFS)" + _E)
_T1_NAMES = re.compile(_B + r"(MPRAGE|MP ?RAGE|BRAVO|VIBE|LAVA|THRIVE|FSPGR|SPGR|FLASH|TFE|T1 ?FFE)" + _E)
_T2_NAMES = re.compile(_B + r"(HASTE|SSFSE|SS ?FSE|MYELO\w*|DRIVE)" + _E)

_DIXON_CONTEXT = re.compile(_B + r"(DIXON|MDIXON|M ?DIXON|IDEAL|FLEX|LAVA ?FLEX|2PT ?DIXON|"
                            r"INPHASE|OUTPHASE|OPPPHASE|IN ?PHASE|OUT ?PHASE|OPP ?PHASE)" + _E)
_OPERATION = re.compile(_B + r"(POST ?OP\w*|PRE ?OP\w*)" + _E)
_DIXON_PARTS = (
    ("water", re.compile(_B + r"(W|WATER|WAT|WATER ?ONLY)" + _E)),
    ("fat", re.compile(_B + r"(F|FAT|FAT ?ONLY)" + _E)),
    ("in-phase", re.compile(_B + r"(IN|IP|INPHASE|IN ?PHASE|INP)" + _E)),
    ("opposed-phase", re.compile(_B + r"(OPP|OP|OUT|OUTPHASE|OUT ?PHASE|OPP ?PHASE|OPPOSED ?PHASE|OPPPHASE)" + _E)),
)
_FAT_SAT = re.compile(_B + r"(FS|FATSAT|FAT ?SAT|SPAIR|SPIR|SPECIAL|CHESS|FATSUP\w*|FAT ?SUPP\w*|WE|WATS|"
                      r"WATER ?EXC\w*|PROSET|T1FS|T2FS|PDFS)" + _E)

_PRE = re.compile(_B + r"(PRE ?CONTRAST|PRE ?GD|PRE ?GAD\w*|PRE ?KM|PRE ?C|PRE|NATIV\w*|WITHOUT|NON ?CONTRAST|"
                  r"NONCON|W ?O ?C|W ?O ?CONTRAST|UNENHANCED|NC)" + _E)
_POST = re.compile(
    _B + r"(POST ?CONTRAST|POST ?GD|POST ?GAD\w*|POST ?KM|POST ?C|POST(?! ?OP)|GD|GAD\w*|GADO\w*|KM|CE|"
    r"CONTRAST|ENHANCED|DOTAREM|GADOVIST|MULTIHANCE|PROHANCE|CLARISCAN|OMNISCAN|MAGNEVIST|ARTERIAL|VENOUS|"
    r"PORTAL|DELAYED|T1 ?C)" + _E
    + r"|(?<![A-Z0-9])(\+ ?C|C ?\+|\+ ?GD|\+ ?KM|\+ ?CONTRAST|W ?\+ ?C)(?![A-Z0-9])")
_NO_AGENT = {"", "NONE", "NO", "N/A", "NA", "0", "-", "NIL", "NOT APPLICABLE", "NO CONTRAST", "KEIN", "OHNE"}

_CT_BONE = re.compile(_B + r"(BONE\w*|KNOCHEN|OSTEO|SKELET\w*|SHARP|HR|BONEPLUS|EDGE|HIGH ?RES\w*|"
                      r"SPINE ?BONE|BONE ?SPINE)" + _E)
_CT_LUNG = re.compile(_B + r"(LUNG\w*|LUNGE|PULMO\w*|CHEST ?HR)" + _E)
_CT_SOFT = re.compile(_B + r"(SOFT\w*|STD|STANDARD|WEICHTEIL\w*|WT|MEDIASTIN\w*|SMOOTH)" + _E)

# AcquisitionContrast (0008,9209) of enhanced MR images: defined terms -> weighting.
_ACQUISITION_CONTRAST = {"T1": "T1", "T2": "T2", "PROTON_DENSITY": "PD", "DIFFUSION": "DWI", "STIR": "STIR",
                         "FLUID_ATTENUATED": "FLAIR", "T2_STAR": "T2*"}

_SECONDARY_SOP_PREFIX = "1.2.840.10008.5.1.4.1.1.7"  # Secondary Capture Image Storage (and multi-frame SC)


def _normalise(*names: str) -> str:
    joined = "  ".join(n for n in names if n)
    return " ".join(_SEPARATORS.sub(" ", joined.upper()).split())


# ---------------------------------------------------------------------------------------------------------
# CT kernels
# ---------------------------------------------------------------------------------------------------------
_SIEMENS_KERNEL = re.compile(r"^([BCDHIJQSTU])([a-z]?)(\d{2})([a-z]?)$")
_GE_KERNELS = {"BONE": "bone", "BONEPLUS": "bone", "EDGE": "bone", "LUNG": "lung", "STANDARD": "soft",
               "SOFT": "soft", "SMOOTH": "soft", "CHEST": "soft", "DETAIL": None, "ULTRA": "bone"}
_PHILIPS_KERNELS = {"A": "soft", "B": "soft", "UA": "soft", "UB": "soft", "YA": "soft", "YB": "soft",
                    "D": "bone", "E": "bone", "YD": "bone", "YE": "bone", "L": "lung", "YL": "lung"}


def kernel_from_name(kernel: str) -> str | None:
    """"bone", "soft", "lung" or None for a ConvolutionKernel value.

    * Siemens (``B30f``, ``B70s``, ``Br40``, ``Bl57``, ``Hr64``, ``I70f``): family letter, optional subgroup
      letter, a two-digit sharpness index. Index 50 and above is a sharp kernel (bone, spine, lung), 45 and
      below soft tissue; subgroup ``l`` is lung-optimised (Siemens SOMATOM operating instructions,
      "Body kernels"; Siemens Healthineers kernel naming, e.g. Br40 standard body);
    * GE (``BONE``, ``BONEPLUS``, ``EDGE``, ``LUNG``, ``STANDARD``, ``SOFT``, ``DETAIL``);
    * Philips letter kernels (``A``/``B`` smooth to standard, ``D``/``E`` sharp, ``L`` lung, ``Y``-prefixed
      variants); ``C`` and unknown names give None (the series name decides then).
    """
    k = kernel.strip().split("\\")[0].strip()
    if not k:
        return None
    up = k.upper()
    if up in _GE_KERNELS:
        return _GE_KERNELS[up]
    if up in _PHILIPS_KERNELS:
        return _PHILIPS_KERNELS[up]
    m = _SIEMENS_KERNEL.match(k if not k.isupper() or len(k) > 3 else k[0] + k[1:].lower())
    if m is None:
        m = _SIEMENS_KERNEL.match(k[0].upper() + k[1:].lower()) if len(k) >= 3 else None
    if m is not None:
        subgroup, index = m.group(2).lower(), int(m.group(3))
        if subgroup == "l":
            return "lung"
        if index >= 50:
            return "bone"
        if index <= 45:
            return "soft"
        return None
    if "BONE" in up:
        return "bone"
    if "LUNG" in up:
        return "lung"
    if "SOFT" in up or "STANDARD" in up:
        return "soft"
    return None


# ---------------------------------------------------------------------------------------------------------
# Classification
# ---------------------------------------------------------------------------------------------------------
def _plane(orientation: Sequence[float] | None) -> str:
    """The plane of an ImageOrientationPatient; "unknown" when absent or degenerate (zero or NaN vectors)."""
    if orientation is None or len(orientation) != 6:
        return "unknown"
    try:
        row = np.asarray(orientation[:3], dtype=float)
        col = np.asarray(orientation[3:6], dtype=float)
        normal = np.cross(row, col)
        if not np.all(np.isfinite(normal)) or np.linalg.norm(normal) < 1e-6:
            return "unknown"
        return plane_name_from_orientation(orientation)
    except (TypeError, ValueError, FloatingPointError):
        return "unknown"


def classify_series(info: SeriesInfo, siblings: Sequence[SeriesInfo] = ()) -> SeriesClass:
    """Classify one scanned series (see the module docstring). ``siblings`` are other scanned series; the
    parts of its own SeriesInstanceUID among them tell a tri-plane localiser (split by plane) apart."""
    plane = _plane(info.orientation)
    header = dict(info.header) if isinstance(info.header, Mapping) else {}
    header.setdefault("Modality", info.modality)
    header.setdefault("SeriesDescription", info.description)
    parts = [s for s in siblings if s.series_uid == info.series_uid and s is not info]
    planes_in_uid = {plane} | {_plane(s.orientation) for s in parts}
    return classify_header(header, plane=plane, image_count=info.image_count,
                           planes_in_series=len(planes_in_uid - {"unknown"}) or 1)


def classify_all(infos: Iterable[SeriesInfo]) -> dict[str, SeriesClass]:
    """Classify every series of a scan; keyed by `SeriesInfo.key`."""
    items = list(infos)
    return {i.key: classify_series(i, items) for i in items}


def classify_header(header: Mapping[str, object], plane: str = "unknown", image_count: int = 0,
                    planes_in_series: int = 1) -> SeriesClass:
    """Classify from plain header values (``SeriesInfo.header``: keyword -> value) and the plane."""
    evidence: list[str] = []
    modality = hdr.text(header, "Modality").upper()[:16]
    description = hdr.text(header, "SeriesDescription")
    protocol = hdr.text(header, "ProtocolName")
    names = _normalise(description, protocol)
    seq_names = _normalise(hdr.text(header, "SequenceName"), hdr.text(header, "PulseSequenceName"))
    image_type = hdr.tokens(header, "ImageType")
    if plane not in PLANES:
        plane = "unknown"

    role = _role(header, names, image_type, image_count, planes_in_series, evidence)
    contrast = _contrast(header, names, evidence)
    if modality == "CT":
        kernel = _kernel(header, names, evidence)
        return SeriesClass(modality, plane, None, None, False, contrast, kernel, role, tuple(evidence))
    if modality != "MR":
        return SeriesClass(modality, plane, None, None, False, contrast, None, role, tuple(evidence))

    dixon = _dixon(names, image_type, evidence)
    weighting = _weighting(header, names, seq_names, evidence)
    if weighting == "ADC" and role == "image":
        role = "map"
        evidence.append("an ADC map is a derived parametric map")
    named_fat_sat = bool(_FAT_SAT.search(names)) or "FS" in hdr.tokens(header, "ScanOptions")
    if named_fat_sat and weighting != "STIR" and dixon != "water":
        evidence.append("fat suppression named (FS/SPAIR/SPIR/fat sat) or ScanOptions FS")
    fat = dixon == "water" or weighting == "STIR" or named_fat_sat
    return SeriesClass(modality, plane, weighting, dixon, fat, contrast, None, role, tuple(evidence))


_REFORMAT_TYPES = ("MPR", "REFORMATTED", "MIP", "CSA MPR", "CSAMPR", "PROJECTION IMAGE", "CURVED", "MINIP")


def _role(header: Mapping[str, object], names: str, image_type: tuple[str, ...], image_count: int,
          planes_in_series: int, evidence: list[str]) -> str:
    sop_class = hdr.text(header, "SOPClassUID")
    if sop_class.startswith(_SECONDARY_SOP_PREFIX):
        evidence.append("Secondary Capture SOP class")
        return "secondary"
    m = _SECONDARY.search(names)
    if m:
        evidence.append(f"secondary capture named ({m.group(0).strip()})")
        return "secondary"
    if "LOCALIZER" in image_type:
        evidence.append("ImageType LOCALIZER")
        return "localizer"
    m = _LOCALIZER.search(names)
    if m:
        evidence.append(f"localiser named ({m.group(0).strip()})")
        return "localizer"
    m = _CALIBRATION.search(names)
    if m:
        evidence.append(f"calibration scan named ({m.group(0).strip()})")
        return "calibration"
    if planes_in_series >= 3 and 0 < image_count <= 5:
        evidence.append("a few images in three planes under one SeriesInstanceUID (a tri-plane localiser)")
        return "localizer"
    typed = next((t for t in image_type if t in _REFORMAT_TYPES), None)
    if typed is not None:
        evidence.append(f"ImageType {typed}")
        return "reformat"
    m = _REFORMAT.search(names)
    if m:
        evidence.append(f"reformat named ({m.group(0).strip()})")
        return "reformat"
    m = _MAP.search(names)
    if m:
        evidence.append(f"parametric map named ({m.group(0).strip()})")
        return "map"
    return "image"


def _contrast(header: Mapping[str, object], names: str, evidence: list[str]) -> str:
    pre = _PRE.search(names)
    rest = _PRE.sub(" ", names) if pre else names
    post = _POST.search(rest)
    agent = hdr.text(header, "ContrastBolusAgent").upper().strip()
    route = hdr.text(header, "ContrastBolusRoute").upper().strip()
    if pre and not post:
        note = " (a ContrastBolusAgent is filled; the name is kept)" if agent not in _NO_AGENT else ""
        evidence.append(f"pre-contrast named ({pre.group(0).strip()}){note}")
        return "pre"
    if agent not in _NO_AGENT:
        evidence.append("ContrastBolusAgent is filled")
        return "post"
    if post:
        evidence.append(f"contrast named ({post.group(0).strip()})")
        return "post"
    if route not in _NO_AGENT:
        evidence.append("ContrastBolusRoute is filled")
        return "post"
    return "none"


def _kernel(header: Mapping[str, object], names: str, evidence: list[str]) -> str | None:
    for kind, pattern in (("lung", _CT_LUNG), ("bone", _CT_BONE), ("soft", _CT_SOFT)):
        m = pattern.search(names)
        if m:
            evidence.append(f"{kind} kernel or window named ({m.group(0).strip()})")
            return kind
    kernel_name = hdr.text(header, "ConvolutionKernel")
    kernel = kernel_from_name(kernel_name) if kernel_name else None
    if kernel is not None:
        evidence.append(f"ConvolutionKernel {kernel_name[:16]} is a {kernel} kernel")
    return kernel


_TYPED_DIXON = {"WATER": "water", "FAT": "fat", "IN_PHASE": "in-phase", "OPP_PHASE": "opposed-phase",
                "OUT_PHASE": "opposed-phase"}


def _dixon(names: str, image_type: tuple[str, ...], evidence: list[str]) -> str | None:
    for token in image_type:
        if token in _TYPED_DIXON:
            evidence.append(f"ImageType {token} (Dixon)")
            return _TYPED_DIXON[token]
    dixon_typed = "DIXON" in image_type or "MDIXON" in image_type
    if dixon_typed:
        for token, part in (("W", "water"), ("F", "fat"), ("IP", "in-phase"), ("OP", "opposed-phase")):
            if token in image_type[2:]:
                evidence.append(f"ImageType DIXON with {token}")
                return part
    if not (dixon_typed or _DIXON_CONTEXT.search(names)):
        return None
    # In a Dixon context a short token names the image: "t2_tse_dixon_sag_W", "mDIXON F", "WATER: Sag T2".
    # "post-op" is not an opposed-phase image.
    text = _OPERATION.sub(" ", names)
    found: list[tuple[int, str]] = []
    for part, pattern in _DIXON_PARTS:
        found.extend((m.start(), part) for m in pattern.finditer(text))
    if not found:
        return None
    part = max(found)[1]  # the last one named: the suffix the scanner appends
    evidence.append(f"Dixon {part} image named")
    return part


def _weighting(header: Mapping[str, object], names: str, seq_names: str, evidence: list[str]) -> str | None:
    acq = hdr.tokens(header, "AcquisitionContrast")
    for token in acq:
        if token in _ACQUISITION_CONTRAST:
            evidence.append(f"AcquisitionContrast {token}")
            return _ACQUISITION_CONTRAST[token]
    named = _weighting_from_names(names)
    seq = _weighting_from_sequence(seq_names)
    timed = _weighting_from_timing(header)
    if named is not None and named[0] == "STIR" and named[1] in ("TIRM", "TIR") and timed and timed[0] == "FLAIR":
        # Siemens TIRM is any turbo inversion recovery: a long inversion time makes it a dark-fluid FLAIR
        evidence.append(f"FLAIR: {named[1]} named with {timed[1]}")
        return "FLAIR"
    if named is not None:
        evidence.append(f"{named[0]} named in the description ({named[1]})")
        if timed is not None and timed[0] != named[0] and not _compatible(named[0], timed[0]):
            evidence.append(f"note: the timing ({timed[1]}) looks {timed[0]}; the name is kept")
        return named[0]
    if seq is not None:
        evidence.append(f"{seq[0]} from SequenceName ({seq[1]})")
        return seq[0]
    if timed is not None:
        evidence.append(f"{timed[0]} from the timing ({timed[1]})")
        return timed[0]
    return None


def _compatible(named: str, timed: str) -> bool:
    # A STIR is long-TR, long-TE inversion recovery: its timing also reads T2-like; a DWI is T2-like too.
    return {named, timed} <= {"STIR", "T2", "FLAIR", "DWI", "ADC"}


def _weighting_from_names(names: str) -> tuple[str, str] | None:
    """The weighting the names give, most specific first (a "T2 STIR" is a STIR, "T1 FLAIR" a T1)."""
    for weighting, pattern in (("ADC", _ADC), ("DWI", _DWI)):
        m = pattern.search(names)
        if m:
            return weighting, m.group(0).strip()
    t1 = _T1.search(names)
    m = _FLAIR.search(names)
    if m:
        return ("T1", t1.group(0).strip()) if t1 else ("FLAIR", m.group(0).strip())
    m = _STIR.search(names)
    if m:
        return "STIR", m.group(0).strip()
    m = _T2STAR.search(names)
    if m:
        return "T2*", m.group(0).strip()
    t2 = _T2.search(names)
    if t1 and t2:
        # both named ("T1 T2 mapping"?): the first one named is what the series is called
        return ("T1", t1.group(0).strip()) if t1.start() < t2.start() else ("T2", t2.group(0).strip())
    if t1:
        return "T1", t1.group(0).strip()
    if t2:
        return "T2", t2.group(0).strip()
    m = _PD.search(names)
    if m:
        return "PD", m.group(0).strip()
    m = _T1_NAMES.search(names)
    if m:
        return "T1", m.group(0).strip()
    m = _T2_NAMES.search(names)
    if m:
        return "T2", m.group(0).strip()
    return None


_SEQ_DWI = re.compile(r"(\*?EP_?B\d+|EP2D ?DIFF|\bDWI\b|RESOLVE|\bDIFF)")
_SEQ_IR = re.compile(r"(\*?TIR\d?D?|\bIR\b|STIR)")


def _weighting_from_sequence(seq_names: str) -> tuple[str, str] | None:
    """Siemens SequenceName (``*ep_b800t``: diffusion) and GE/Philips pulse sequence names."""
    if not seq_names:
        return None
    m = _SEQ_DWI.search(seq_names)
    if m:
        return "DWI", m.group(0).strip()
    return None


def _weighting_from_timing(header: Mapping[str, object]) -> tuple[str, str] | None:
    t = WEIGHTING_TIMES
    te = hdr.number(header, "EchoTime", *_TE_RANGE)
    tr = hdr.number(header, "RepetitionTime", *_TR_RANGE)
    ti = hdr.number(header, "InversionTime", *_TI_RANGE)
    b = hdr.number(header, "DiffusionBValue", *_B_RANGE)
    scanning = hdr.tokens(header, "ScanningSequence")
    sequence = hdr.text(header, "SequenceName").upper()
    if b is not None and b > 0:
        return "DWI", f"DiffusionBValue {b:g}"
    inversion = "IR" in scanning or bool(_SEQ_IR.search(_normalise(sequence)))
    if ti is not None and ti > 0 and (inversion or not scanning):
        if ti <= t["stir_max_ti"]:
            return "STIR", f"InversionTime {ti:g} ms"
        if ti >= t["flair_min_ti"]:
            return "FLAIR", f"InversionTime {ti:g} ms"
        return "T1", f"InversionTime {ti:g} ms (T1-prepared)"
    if te is None or tr is None:
        return None
    timing = f"TE {te:g} ms, TR {tr:g} ms"
    gradient = "GR" in scanning and "SE" not in scanning
    if gradient:
        if te >= 15:
            return "T2*", timing
        if tr <= 300:
            return "T1", timing
        return None
    if tr <= t["t1_max_tr"] and te <= t["t1_max_te"]:
        return "T1", timing
    if tr >= t["long_tr"] and te >= t["t2_min_te"]:
        return "T2", timing
    if tr >= t["long_tr"] and te <= t["pd_max_te"]:
        return "PD", timing
    return None
