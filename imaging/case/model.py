"""The `Case` model: the single source of truth for a reader's annotations (pydantic v2, Qt-free).

Design rules
------------
* Every object that can be edited on its own has a stable ``id`` (uuid4 hex, 32 lower-case hex digits).
* Ordered things are lists, never dicts; the JSON keeps the model's declared field order.
* Nothing derived is stored (values are recomputed from the points by :mod:`imaging.measure`; levels,
  dimensions, the ESCC group and the SINS total are computed), except ROI / probe statistics, which need
  the voxels: they are stored with the time they were computed (``Measurement.stats``).
* Geometry is patient LPS in millimetres at full float precision. When a series has no pixel spacing the
  points are in the volume's 1-mm-per-pixel space, ``pixel_spacing_known`` is False and values are px.
* Times are timezone-aware UTC (`datetime`); a naive time is rejected. JSON writes them ISO 8601 with "Z".
* Bilsky grades are the strings "0", "1a", "1b", "1c", "2", "3"; levels are canonical labels ("T5").

Mutation (for the GUI's undoable commands) goes through :class:`Case`'s methods ``add``, ``remove``,
``replace``, ``update``, ``set_patient``, ``set_report``: each validates, bumps ``updated_utc`` and
appends an :class:`AuditEntry`; each returns what its inverse needs (see the methods).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal, TypeAlias, TypeVar, get_args

import numpy as np
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    FiniteFloat,
    StringConstraints,
    model_validator,
)

from imaging import measure
from imaging.followup.timepoint_types import TimePointType
from imaging.geometry import PlaneGeometry
from imaging.measurement_kinds import MeasurementKind, kind_spec, registered_kinds
from imaging.scores import score_spec
from imaging.spine.bilsky import BILSKY_GRADES, BilskyGrade  # noqa: F401 - BILSKY_GRADES re-exported
from imaging.spine.levels import LevelRange, level_index, normalize_level
from imaging.spine.sins import (
    SinsAlignment,
    SinsBoneLesion,
    SinsCollapse,
    SinsLocation,
    SinsPain,
    SinsPosterolateral,
    SinsScore,
    compute_sins,
)

SCHEMA_VERSION: Final = 3
"""The schema version this code writes. See :mod:`imaging.case.migrations` for the history."""


def new_id() -> str:
    """A new object id: uuid4 as 32 lower-case hex digits."""
    return uuid.uuid4().hex


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def _to_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError("time must carry a time zone (ISO 8601 with 'Z' or an offset); naive times are "
                         "ambiguous")
    return value.astimezone(UTC)


def _unit_vector(v: tuple[float, float, float]) -> tuple[float, float, float]:
    n = math.sqrt(v[0] ** 2 + v[1] ** 2 + v[2] ** 2)
    if n < 1e-9:
        raise ValueError("direction vector has zero length")
    return (v[0] / n, v[1] / n, v[2] / n) if abs(n - 1.0) > 1e-12 else v


Id = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
# DICOM UIDs: digits and dots, at most 64 characters (leading zeros tolerated: some vendors write them).
UID = Annotated[str, StringConstraints(pattern=r"^[0-9]+(\.[0-9]+)*$", max_length=64)]
UtcDateTime = Annotated[datetime, AfterValidator(_to_utc)]
Level = Annotated[str, AfterValidator(normalize_level)]
Point3 = tuple[FiniteFloat, FiniteFloat, FiniteFloat]
UnitVector = Annotated[Point3, AfterValidator(_unit_vector)]




def _registered_kind(key: str) -> str:
    kind_spec(key)  # ValueError naming the known kinds
    return key


# A measurement kind is the key of a spec registered in imaging.measurement_kinds (built in: length,
# bidirectional, ellipse_roi, polygon_roi, freehand_roi, angle, cobb, probe, cc_extent); a new kind registers
# its own spec, so the schema need not change.
MeasurementKindKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$"),
                               AfterValidator(_registered_kind)]


class _RegionKinds(AbstractSet[str]):
    """The keys of the registered region (ROI) kinds, read live from the registry. Prefer
    ``kind_spec(key).has_area``; kept for code that still tests membership."""

    def _keys(self) -> frozenset[str]:
        return frozenset(k.key for k in registered_kinds() if k.has_area)

    def __contains__(self, key: object) -> bool:
        return key in self._keys()

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())


ROI_KINDS: AbstractSet[str] = _RegionKinds()
PlaneOrientation = Literal["axial", "sagittal", "coronal", "oblique"]
Sector = Literal["vertebral_body", "left_pedicle", "right_pedicle", "lamina", "spinous_process",
                 "transverse_process", "epidural", "paraspinal", "psoas"]
SECTORS: tuple[str, ...] = get_args(Sector)
LesionType = Literal["lytic", "blastic", "mixed", "lipomatous", "marrow_replacing"]
ContourKind = Literal["canal", "sac", "cord", "tumour"]
LabelSource = Literal["manual", "detected"]
Sex = Literal["F", "M", "O"]

# SINS answers are stored as the member names of imaging.spine.sins's enums ("LYTIC", "MECHANICAL"): Literals
# built from the enums (one place for the answers); a type checker sees plain strings.
if TYPE_CHECKING:
    SinsPainChoice: TypeAlias = str
    SinsBoneLesionChoice: TypeAlias = str
    SinsAlignmentChoice: TypeAlias = str
    SinsCollapseChoice: TypeAlias = str
    SinsPosterolateralChoice: TypeAlias = str
    SinsLocationChoice: TypeAlias = str
else:
    SinsPainChoice = Literal[tuple(m.name for m in SinsPain)]
    SinsBoneLesionChoice = Literal[tuple(m.name for m in SinsBoneLesion)]
    SinsAlignmentChoice = Literal[tuple(m.name for m in SinsAlignment)]
    SinsCollapseChoice = Literal[tuple(m.name for m in SinsCollapse)]
    SinsPosterolateralChoice = Literal[tuple(m.name for m in SinsPosterolateral)]
    SinsLocationChoice = Literal[tuple(m.name for m in SinsLocation)]

class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, str_strip_whitespace=False)


class _Identified(_Model):
    id: Id = Field(default_factory=new_id, description="Stable id: uuid4 as 32 lower-case hex digits.")


# -- people and report data -----------------------------------------------------------------------------
class Reader(_Identified):
    """A person who annotates. Other objects name their reader by ``name`` (the reader's handle)."""

    name: str = Field(min_length=1, description="Handle or name shown in exports, e.g. 'jdoe'.")
    role: str = Field("", description="e.g. 'radiologist', 'spine surgeon', 'resident'.")
    added_utc: UtcDateTime = Field(default_factory=utc_now)


class Patient(_Model):
    """The patient as the case knows them (research: usually a pseudonymous id)."""

    id: str = Field("", description="Patient ID (pseudonymous in research).")
    name: str | None = None
    sex: Sex | None = Field(None, description="DICOM PatientSex: F, M or O.")
    age_years: float | None = Field(None, ge=0, le=150, description="Age in years at the index study.")


class ReportedDimension(_Model):
    """A lesion size as the source reports it, e.g. 'residual at T6', [17, 9] mm, text '17 x 9 mm'."""

    label: str = ""
    dimensions_mm: list[Annotated[float, Field(ge=0, allow_inf_nan=False)]] = Field(
        default_factory=list, max_length=3, description="Up to three diameters in mm (cm converted).")
    text: str = Field("", description="As written in the source.")


class Treatment(_Model):
    kind: str = Field("", description="e.g. 'surgery', 'radiotherapy', 'chemotherapy', 'ablation'.")
    description: str = ""
    timing: str = Field("", description="When, as the source says it (date or relative time).")


class ReportData(_Model):
    """What the source (a published case report or the clinical record) says about the case."""

    citation: str = Field("", description="Source citation (authors, title, journal, year).")
    doi: str | None = None
    url: str | None = None
    clinical_presentation: str = ""
    histology: str = ""
    tumour_grade: str = Field("", description="Histological grade as reported.")
    primary_site: str = ""
    levels_reported: str = Field("", description="Vertebral levels as reported, e.g. 'T5-T6'.")
    bilsky_reported: BilskyGrade | None = None
    reported_dimensions: list[ReportedDimension] = Field(default_factory=list)
    treatments: list[Treatment] = Field(default_factory=list)
    outcome: str = ""
    follow_up: str = ""
    report_text: str = Field("", description="Free-text report or impression.")


# -- studies and series ---------------------------------------------------------------------------------
class Study(_Identified):
    study_instance_uid: UID
    study_date: date | None = None
    description: str = ""


class SeriesRef(_Identified):
    """A series the case refers to. ``path_hint`` is a POSIX path relative to the case file's folder (a
    folder holding the series' files, or one of its files); when the data has moved the app searches a
    folder for ``series_instance_uid``."""

    series_instance_uid: UID
    study_instance_uid: UID | None = None
    modality: str = ""
    description: str = ""
    series_number: int | None = None
    frame_of_reference_uid: UID | None = None
    path_hint: str | None = None
    slice_thickness_mm: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = Field(
        None, description="DICOM SliceThickness (mm), for RECIST 1.1 measurability; None when unknown.")


# -- annotations ----------------------------------------------------------------------------------------
class VertebralLabel(_Identified):
    """A labelled vertebral body: its label and the LPS centre of the body (mm)."""

    label: Level
    centre: Point3
    series_instance_uid: UID | None = None
    source: LabelSource = "manual"
    reader: str = ""
    created_utc: UtcDateTime = Field(default_factory=utc_now)


class PlaneSpec(_Model):
    """The parameters of a :class:`~imaging.geometry.PlaneGeometry` (display pixel (x, y) -> LPS mm)."""

    origin: Point3
    x_dir: UnitVector
    y_dir: UnitVector
    x_spacing: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    y_spacing: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    thickness: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 1.0

    def to_geometry(self) -> PlaneGeometry:
        return PlaneGeometry(self.origin, self.x_dir, self.y_dir, self.x_spacing, self.y_spacing,
                             self.thickness)

    @classmethod
    def from_geometry(cls, g: PlaneGeometry) -> PlaneSpec:
        return cls(origin=tuple(map(float, g.origin)), x_dir=tuple(map(float, g.x_dir)),
                   y_dir=tuple(map(float, g.y_dir)), x_spacing=g.x_spacing, y_spacing=g.y_spacing,
                   thickness=g.thickness)


class MeasurementPlane(_Model):
    """The plane a measurement was drawn on: its name, unit normal (LPS) and, for ROIs (needed to
    recompute the statistics) and reformats, the full plane geometry."""

    orientation: PlaneOrientation
    normal: UnitVector
    geometry: PlaneSpec | None = None

    @classmethod
    def from_geometry(cls, g: PlaneGeometry) -> MeasurementPlane:
        from imaging.geometry import plane_name_from_orientation

        name = plane_name_from_orientation([*g.x_dir, *g.y_dir])
        return cls(orientation=name, normal=tuple(map(float, g.normal)), geometry=PlaneSpec.from_geometry(g))


class RoiStatsCache(_Model):
    """Statistics of the voxels inside an ROI (or the probed voxel: count 1), as computed at
    ``computed_utc`` from ``series_instance_uid``'s voxels. ``unit``: "HU" on CT, "" otherwise."""

    mean: float | None = None
    sd: float | None = None
    min: float | None = None
    max: float | None = None
    count: int = Field(0, ge=0)
    unit: str = ""
    computed_utc: UtcDateTime = Field(default_factory=utc_now)

    @classmethod
    def from_stats(cls, stats: measure.RoiStats) -> RoiStatsCache:
        return cls(mean=stats.mean, sd=stats.sd, min=stats.min, max=stats.max, count=stats.count,
                   unit=stats.unit)


class Measurement(_Identified):
    """One measurement drawn by a reader. ``kind`` names a registered kind (:mod:`imaging.measurement_kinds`,
    whose spec says what the ``points`` (LPS mm) mean and in which order); values come from :meth:`values`."""

    kind: MeasurementKindKey = Field(description=(
        "A registered measurement kind (imaging.measurement_kinds); built in: length, bidirectional, "
        "ellipse_roi, polygon_roi, freehand_roi, angle, cobb, probe, cc_extent."))
    points: list[Point3]
    plane: MeasurementPlane
    series_instance_uid: UID | None = None
    sop_instance_uid: UID | None = Field(None, description="The acquired slice drawn on; None on a reformat.")
    instance_number: int | None = Field(None, description=(
        "DICOM InstanceNumber of the acquired slice drawn on (the image number PACS viewers show); None on a "
        "reformat."))
    frame_number: int | None = Field(None, ge=1, description="1-based frame in a multi-frame instance.")
    slice_index: int | None = Field(None, ge=0, description=(
        "0-based plane number in the series' plane family of plane.orientation (imaging.display.plane_spec "
        "numbering); on the acquired orientation it is the acquired slice index."))
    label: str = ""
    reader: str = ""
    created_utc: UtcDateTime = Field(default_factory=utc_now)
    finding_id: Id | None = None
    finding_dimension: bool = Field(False, description=(
        "The reader marked this measurement as its finding's dimensions: a bidirectional gives AP and LR, a "
        "cc_extent gives CC (imaging.case.analysis.lesion_dimensions uses only marked measurements)."))
    pixel_spacing_known: bool = True
    stats: RoiStatsCache | None = Field(None, description="ROI statistics / probe value (needs voxels).")

    @model_validator(mode="after")
    def _check_points(self) -> Measurement:
        spec = kind_spec(self.kind)
        spec.check_points(self.points)  # count and shape (an ellipse's axes), with the kind's wording
        if self.stats is not None and spec.voxel_stats == "none":
            raise ValueError(f"a {self.kind} measurement has no voxel statistics")
        if self.finding_dimension:
            if spec.finding_dimension is None:
                raise ValueError(f"a {spec.name} cannot give a finding's dimensions (a bidirectional gives AP x LR, "
                                 "a CC extent gives CC)")
            if self.finding_id is None:
                raise ValueError("a measurement marked as a finding's dimensions must belong to that finding")
        canonical = spec.canonical_points(self.points)
        if canonical is not None:  # e.g. a bidirectional's long axis first
            object.__setattr__(self, "points", [tuple(float(c) for c in p) for p in canonical])
        return self

    @property
    def spec(self) -> MeasurementKind:
        """The kind's spec (:func:`imaging.measurement_kinds.kind_spec`)."""
        return kind_spec(self.kind)

    def values(self) -> list[measure.MeasuredValue]:
        """The measurement's values, recomputed from the points at full precision by the kind's spec
        (lengths in mm, or px when the series has no pixel spacing; angles in degrees; ROI statistics from
        the cache)."""
        return kind_spec(self.kind).values(self)

    def value(self, name: str) -> measure.MeasuredValue | None:
        """The value called ``name`` (e.g. "long_axis"), or None."""
        return next((v for v in self.values() if v.name == name), None)

    def outline_lps(self) -> np.ndarray:
        """The ROI outline in LPS (ellipse sampled at 64 points), shape (N, 3)."""
        return kind_spec(self.kind).outline(self.points)


class LevelInvolvement(_Model):
    """The sectors a finding involves at one level."""

    level: Level
    sectors: list[Sector] = Field(default_factory=list)

    @model_validator(mode="after")
    def _canonical(self) -> LevelInvolvement:
        ordered = [s for s in SECTORS if s in set(self.sectors)]
        if ordered != self.sectors:
            object.__setattr__(self, "sectors", ordered)
        return self


class SuggestionReason(_Model):
    """One measured fact behind a suggested Bilsky grade (from ``imaging.spine``'s ``BilskyReason``)."""

    name: str
    value: FiniteFloat
    unit: str = ""
    sentence: str = ""

    @classmethod
    def from_reason(cls, reason: Any) -> SuggestionReason:
        return cls(name=reason.name, value=float(reason.value), unit=reason.unit, sentence=reason.sentence)


class BilskyAssessment(_Model):
    """The Bilsky ESCC grade of a finding: the reader's final grade and the assistant's suggestion, with
    where (level, image) and by whom it was graded."""

    grade: BilskyGrade | None = Field(None, description="Final grade chosen by the reader.")
    suggested_grade: BilskyGrade | None = None
    suggestion_reasons: list[SuggestionReason] = Field(default_factory=list)
    suggestion_summary: str = ""
    suggested_utc: UtcDateTime | None = None
    level: Level | None = None
    series_instance_uid: UID | None = None
    sop_instance_uid: UID | None = None
    instance_number: int | None = Field(None, description="DICOM InstanceNumber of the graded image.")
    slice_index: int | None = Field(None, ge=0)
    reader: str = ""
    assessed_utc: UtcDateTime | None = None

    def with_suggestion(self, suggestion: Any, now: datetime | None = None) -> BilskyAssessment:
        """A copy holding an ``imaging.spine`` ``BilskySuggestion`` (grade, reasons, summary, time); the
        final ``grade`` is left as it is — the assistant never changes it by itself."""
        return self.model_copy(update={
            "suggested_grade": suggestion.grade,
            "suggestion_reasons": [SuggestionReason.from_reason(r) for r in suggestion.reasons],
            "suggestion_summary": suggestion.summary, "suggested_utc": now or utc_now()})


class SinsAssessment(_Model):
    """SINS answers (member names of :mod:`imaging.spine.sins`'s enums); the location comes from the
    finding's levels unless ``location_override`` is set. Totals are computed, never stored."""

    pain: SinsPainChoice | None = None
    bone_lesion: SinsBoneLesionChoice | None = None
    alignment: SinsAlignmentChoice | None = None
    collapse: SinsCollapseChoice | None = None
    posterolateral: SinsPosterolateralChoice | None = None
    location_override: SinsLocationChoice | None = None

    def score(self, levels: LevelRange | None) -> SinsScore | None:
        """The computed score, or None while a component (or the location) is missing."""
        pain, bone, alignment, collapse, posterolateral = (self.pain, self.bone_lesion, self.alignment,
                                                           self.collapse, self.posterolateral)
        if (pain is None or bone is None or alignment is None or collapse is None or posterolateral is None
                or (levels is None and self.location_override is None)):
            return None
        return compute_sins(pain=pain, bone_lesion=bone, alignment=alignment, collapse=collapse,
                            posterolateral=posterolateral, levels=levels, location=self.location_override)


def _registered_score(key: str) -> str:
    score_spec(key)  # ValueError naming the known scores
    return key


ScoreKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$"), AfterValidator(_registered_score)]


class Assessment(_Model):
    """The answers to a registered score (:mod:`imaging.scores`) that has no field of its own: in
    ``Finding.assessments`` for a finding score, in ``Case.assessments`` for a case-level score (such as
    Tokuhashi's). ``answers`` are validated by the score's answers model and stored as its JSON; results are
    computed, never stored."""

    score: ScoreKey = Field(description="A registered score (imaging.scores).")
    answers: dict[str, Any] = Field(default_factory=dict)
    reader: str = ""
    assessed_utc: UtcDateTime | None = None

    @model_validator(mode="after")
    def _valid_answers(self) -> Assessment:
        spec = score_spec(self.score)
        if spec.stored_in is not None:
            raise ValueError(f"{spec.name} answers are kept in the {spec.stored_in!r} field, not as an assessment")
        answers = spec.answers_model.model_validate(self.answers).model_dump(mode="json")
        if answers != self.answers:
            object.__setattr__(self, "answers", answers)
        return self


def _check_assessments(entries: list[Assessment], scope: str, owner: str) -> None:
    seen: set[str] = set()
    for a in entries:
        spec = score_spec(a.score)
        if spec.scope != scope:
            raise ValueError(f"{spec.name} is a {spec.scope}-level score; it cannot be recorded on a {owner}")
        if a.score in seen:
            raise ValueError(f"{owner} has two {spec.name} assessments")
        seen.add(a.score)


class Contour(_Identified):
    """A contour for the Bilsky assistant: an LPS polygon on one axial slice."""

    kind: ContourKind
    points: list[Point3] = Field(min_length=3)
    series_instance_uid: UID | None = None
    sop_instance_uid: UID | None = None
    slice_index: int | None = Field(None, ge=0)
    reader: str = ""
    created_utc: UtcDateTime = Field(default_factory=utc_now)


def _order_levels(obj: Finding | FindingTimepoint) -> None:
    """Fill a one-sided level range and put it in cranio-caudal order; refuse a level listed twice."""
    a, b = obj.level_from, obj.level_to
    if (a is None) != (b is None):
        if a is None:
            object.__setattr__(obj, "level_from", b)
        else:
            object.__setattr__(obj, "level_to", a)
    elif a is not None and b is not None and level_index(b) < level_index(a):
        object.__setattr__(obj, "level_from", b)
        object.__setattr__(obj, "level_to", a)
    seen = [inv.level for inv in obj.involvement]
    if len(set(seen)) != len(seen):
        raise ValueError("involvement lists a level more than once")


LesionStatus = Literal["present", "absent"]


class TimepointInfo(_Model):
    """When a timepoint is and what it is: the study date, a name ("restaging after chemotherapy") and its
    kind (DICOM CID 6146, :mod:`imaging.followup.timepoint_types`)."""

    study_date: date | None = None
    label: str = ""
    time_point_type: TimePointType | None = None


class FindingTimepoint(_Identified):
    """A finding (one lesion) at one more study date: its status, levels, involvement, Bilsky grade, SINS and
    registered finding scores (``assessments``, :mod:`imaging.scores`) there. ``status`` "absent": the reader
    looked and the lesion is gone (RECIST counts it 0 mm)."""

    study_date: date
    label: str = ""
    time_point_type: TimePointType | None = None
    status: LesionStatus = "present"
    level_from: Level | None = None
    level_to: Level | None = None
    levels_auto: bool = True
    involvement: list[LevelInvolvement] = Field(default_factory=list)
    bilsky: BilskyAssessment = Field(default_factory=BilskyAssessment)
    sins: SinsAssessment = Field(default_factory=SinsAssessment)
    assessments: list[Assessment] = Field(default_factory=list, description=(
        "Answers to registered finding scores without a field of their own (imaging.scores), at this date."))
    notes: str = ""
    reader: str = ""
    created_utc: UtcDateTime = Field(default_factory=utc_now)
    updated_utc: UtcDateTime = Field(default_factory=utc_now)

    @model_validator(mode="after")
    def _levels(self) -> FindingTimepoint:
        _order_levels(self)
        _check_assessments(self.assessments, "finding", "finding timepoint")
        return self

    @property
    def info(self) -> TimepointInfo:
        return TimepointInfo(study_date=self.study_date, label=self.label, time_point_type=self.time_point_type)

    @property
    def level_range(self) -> LevelRange | None:
        if self.level_from is None:
            return None
        return LevelRange(self.level_from, self.level_to or self.level_from)

    def sins_score(self) -> SinsScore | None:
        return self.sins.score(self.level_range)


class Finding(_Identified):
    """A lesion: groups measurements (``Measurement.finding_id``) and holds the spine assessment at its index
    timepoint; ``timepoints`` hold the same lesion at other study dates (follow-up)."""

    label: str = ""
    level_from: Level | None = Field(None, description="Cranial end of the level range.")
    level_to: Level | None = Field(None, description="Caudal end of the level range.")
    levels_auto: bool = Field(True, description="True: filled from the labelled levels of the finding's "
                                                "measurements; False: edited by hand.")
    involvement: list[LevelInvolvement] = Field(default_factory=list)
    lesion_type: LesionType | None = None
    bilsky: BilskyAssessment = Field(default_factory=BilskyAssessment)
    sins: SinsAssessment = Field(default_factory=SinsAssessment)
    contours: list[Contour] = Field(default_factory=list)
    assessments: list[Assessment] = Field(default_factory=list, description=(
        "Answers to registered finding scores without a field of their own (imaging.scores)."))
    notes: str = ""
    reader: str = ""
    created_utc: UtcDateTime = Field(default_factory=utc_now)
    updated_utc: UtcDateTime = Field(default_factory=utc_now)
    # -- follow-up (issue 18): the lesion over time ----------------------------------------------------------
    index_timepoint: TimepointInfo = Field(default_factory=TimepointInfo, description=(
        "The study date (and its name) that the finding's own measurements, levels, Bilsky grade and SINS "
        "describe: its index timepoint."))
    recist_target: bool = Field(False, description="Marked by the reader as a RECIST 1.1 target lesion.")
    resection_date: date | None = Field(None, description=(
        "For a local recurrence: the date of the resection it recurred after (Park et al.'s growth rate)."))
    timepoints: list[FindingTimepoint] = Field(default_factory=list, description=(
        "The same lesion at other study dates, each with its own levels, Bilsky grade and SINS; a measurement "
        "belongs to the timepoint of its study's date (imaging.followup.timeline)."))

    @model_validator(mode="after")
    def _levels(self) -> Finding:
        _order_levels(self)
        _check_assessments(self.assessments, "finding", "finding")
        dates = [t.study_date for t in self.timepoints]
        if len(set(dates)) != len(dates):
            raise ValueError("the finding has two timepoints on the same study date")
        if self.index_timepoint.study_date is not None and self.index_timepoint.study_date in dates:
            raise ValueError(f"a timepoint repeats the finding's index date {self.index_timepoint.study_date}")
        return self

    @property
    def level_range(self) -> LevelRange | None:
        """The finding's levels as a :class:`LevelRange` (None when not set)."""
        if self.level_from is None:
            return None
        return LevelRange(self.level_from, self.level_to or self.level_from)

    @property
    def levels_text(self) -> str:
        """``"T5-T6"``, ``"T6"`` or ``""``."""
        r = self.level_range
        return str(r) if r is not None else ""

    def sins_score(self) -> SinsScore | None:
        return self.sins.score(self.level_range)


class AuditEntry(_Identified):
    """One entry of the append-only audit trail: who did what, when."""

    when_utc: UtcDateTime = Field(default_factory=utc_now)
    who: str = ""
    action: str = Field(description="add, update, remove, create, migrate, ... ")
    object_type: str = ""
    object_id: str | None = None
    summary: str = ""


# -- the case -------------------------------------------------------------------------------------------
_COLLECTIONS: dict[type, str] = {}  # filled below: model class -> Case list attribute
T = TypeVar("T", bound=_Identified)


class Case(_Model):
    """A case: patient, report data, referenced studies and series, labels, findings, measurements,
    readers and the audit trail. See the module docstring for the rules."""

    schema_version: Literal[3] = SCHEMA_VERSION
    case_id: str = Field(default_factory=new_id, min_length=1)
    created_utc: UtcDateTime = Field(default_factory=utc_now)
    updated_utc: UtcDateTime = Field(default_factory=utc_now)
    patient: Patient = Field(default_factory=Patient)
    report: ReportData = Field(default_factory=ReportData)
    studies: list[Study] = Field(default_factory=list)
    series: list[SeriesRef] = Field(default_factory=list)
    vertebral_labels: list[VertebralLabel] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    measurements: list[Measurement] = Field(default_factory=list)
    readers: list[Reader] = Field(default_factory=list)
    assessments: list[Assessment] = Field(default_factory=list, description=(
        "Answers to registered case-level scores (imaging.scores), e.g. a prognostic score."))
    audit: list[AuditEntry] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Case:
        seen: dict[str, str] = {}
        for kind, obj in self._all_objects():
            if obj.id in seen:
                raise ValueError(f"id {obj.id} is used twice ({seen[obj.id]} and {kind})")
            seen[obj.id] = kind
        finding_ids = {f.id for f in self.findings}
        for mm in self.measurements:
            if mm.finding_id is not None and mm.finding_id not in finding_ids:
                raise ValueError(f"measurement {mm.id} refers to finding {mm.finding_id}, which does not exist")
        for attr, key in (("studies", "study_instance_uid"), ("series", "series_instance_uid")):
            uids = [getattr(o, key) for o in getattr(self, attr)]
            if len(set(uids)) != len(uids):
                raise ValueError(f"{attr} lists a {key} more than once")
        names = [r.name for r in self.readers]
        if len(set(names)) != len(names):
            raise ValueError("readers lists a name more than once")
        _check_assessments(self.assessments, "case", "case")
        self._check_grades_by_date()
        return self

    def _check_grades_by_date(self) -> None:
        """A Bilsky grade belongs to the timepoint of the date of the image it was read on: a finding's own
        grade may not be read on a date that is one of its follow-up timepoints, nor a timepoint's on another
        date (dates known from the case's series and studies; unknown dates are not checked)."""
        dates = {s.study_instance_uid: s.study_date for s in self.studies}
        series = {r.series_instance_uid: dates.get(r.study_instance_uid or "") for r in self.series}
        for f in self.findings:
            if not f.timepoints:
                continue
            follow_up = {t.study_date for t in f.timepoints}
            day = series.get(f.bilsky.series_instance_uid or "")
            if day is not None and day in follow_up:
                raise ValueError(f"{f.label or 'the finding'}: a Bilsky grade read on an image of {day} belongs to "
                                 f"its timepoint of {day} (Follow-up panel), not to the finding's first reading")
            for t in f.timepoints:
                day = series.get(t.bilsky.series_instance_uid or "")
                if day is not None and day != t.study_date:
                    raise ValueError(f"{f.label or 'the finding'}: the grade of its timepoint of {t.study_date} was "
                                     f"read on an image of {day}")

    def _all_objects(self) -> Iterator[tuple[str, _Identified]]:
        for attr in ("readers", "studies", "series", "vertebral_labels", "findings", "measurements", "audit"):
            for obj in getattr(self, attr):
                yield attr, obj
        for f in self.findings:
            for c in f.contours:
                yield "contours", c
            for t in f.timepoints:
                yield "timepoints", t

    # -- look-ups ---------------------------------------------------------------------------------------
    def get(self, obj_id: str) -> _Identified:
        """The object with ``obj_id`` (measurement, finding, label, contour, ...); KeyError if none."""
        for _, obj in self._all_objects():
            if obj.id == obj_id:
                return obj
        raise KeyError(f"no object with id {obj_id} in case {self.case_id}")

    def measurement(self, obj_id: str) -> Measurement:
        return _find(self.measurements, obj_id, "measurement")

    def finding(self, obj_id: str) -> Finding:
        return _find(self.findings, obj_id, "finding")

    def finding_measurements(self, finding_id: str) -> list[Measurement]:
        """The measurements of a finding, in case order."""
        return [mm for mm in self.measurements if mm.finding_id == finding_id]

    def series_ref(self, series_instance_uid: str | None) -> SeriesRef | None:
        return next((s for s in self.series if s.series_instance_uid == series_instance_uid), None)

    def study_ref(self, study_instance_uid: str | None) -> Study | None:
        return next((s for s in self.studies if s.study_instance_uid == study_instance_uid), None)

    def contour_parent(self, contour_id: str) -> Finding:
        for f in self.findings:
            if any(c.id == contour_id for c in f.contours):
                return f
        raise KeyError(f"no contour with id {contour_id} in case {self.case_id}")

    def timepoint_parent(self, timepoint_id: str) -> Finding:
        """The finding a :class:`FindingTimepoint` belongs to."""
        for f in self.findings:
            if any(t.id == timepoint_id for t in f.timepoints):
                return f
        raise KeyError(f"no timepoint with id {timepoint_id} in case {self.case_id}")

    def _child_parent(self, obj: _Identified) -> tuple[Finding, str]:
        attr = _FINDING_CHILDREN[type(obj)]
        parent = self.contour_parent(obj.id) if attr == "contours" else self.timepoint_parent(obj.id)
        return parent, attr

    # -- mutation (each validates, bumps updated_utc, appends an audit entry) ---------------------------
    def add(self, obj: _Identified, *, index: int | None = None, parent_id: str | None = None,
            who: str = "") -> None:
        """Insert ``obj`` (at ``index``, default the end) into its list: a :class:`Measurement`,
        :class:`Finding`, :class:`VertebralLabel`, :class:`Study`, :class:`SeriesRef`, :class:`Reader`, or
        a :class:`Contour` or :class:`FindingTimepoint` into the finding ``parent_id``. Inverse:
        ``remove(obj.id)``."""
        if obj.id in {o.id for _, o in self._all_objects()}:
            raise ValueError(f"id {obj.id} is already in the case")
        if isinstance(obj, AuditEntry):
            raise TypeError("audit entries are appended by the case itself")
        if type(obj) in _FINDING_CHILDREN:
            attr = _FINDING_CHILDREN[type(obj)]
            if parent_id is None:
                raise ValueError(f"a {_snake(type(obj).__name__)} needs parent_id: the finding it belongs to")
            parent = self.finding(parent_id)
            children = list(getattr(parent, attr))
            children.insert(len(children) if index is None else index, obj)
            self._swap_finding(parent, parent.model_copy(update={attr: children, "updated_utc": utc_now()}))
        else:
            attr = _collection_of(obj)
            items = list(getattr(self, attr))
            items.insert(len(items) if index is None else index, obj)
            self._set_list(attr, items)
        self._log(who, "add", obj, _describe(obj))

    def remove(self, obj_id: str, *, who: str = "") -> tuple[_Identified, int, str | None]:
        """Remove an object; returns ``(object, index, parent_id)`` for the inverse
        ``add(object, index=index, parent_id=parent_id)``. A finding that still has measurements is
        refused (detach them first with ``update(m.id, finding_id=None)``, in the same undo macro)."""
        obj = self.get(obj_id)
        if isinstance(obj, AuditEntry):
            raise ValueError("the audit trail is append-only")
        if isinstance(obj, Finding) and self.finding_measurements(obj.id):
            n = len(self.finding_measurements(obj.id))
            raise ValueError(f"finding {obj.label or obj.id} still has {n} measurement(s): detach or remove them "
                             "first")
        parent_id: str | None = None
        if type(obj) in _FINDING_CHILDREN:
            parent, attr = self._child_parent(obj)
            parent_id = parent.id
            index = next(i for i, c in enumerate(getattr(parent, attr)) if c.id == obj_id)
            children = [c for c in getattr(parent, attr) if c.id != obj_id]
            self._swap_finding(parent, parent.model_copy(update={attr: children, "updated_utc": utc_now()}))
        else:
            attr = _collection_of(obj)
            items = list(getattr(self, attr))
            index = next(i for i, o in enumerate(items) if o.id == obj_id)
            del items[index]
            self._set_list(attr, items)
        self._log(who, "remove", obj, _describe(obj))
        return obj, index, parent_id

    def replace(self, new: T, *, who: str = "") -> T:
        """Put ``new`` in place of the object with the same id; returns the old object (the inverse is
        ``replace(old)``). A finding's ``updated_utc`` is set to now unless the caller changed it."""
        found = self.get(new.id)
        if type(found) is not type(new) or not isinstance(found, type(new)):
            raise TypeError(f"object {new.id} is a {type(found).__name__}, not a {type(new).__name__}")
        old = found
        if isinstance(new, AuditEntry):
            raise ValueError("the audit trail is append-only")
        new = type(new).model_validate(new.model_dump())  # re-validate (model_copy does not)
        changed = changed_fields(old, new)
        if isinstance(new, Finding | FindingTimepoint) and "updated_utc" not in changed:
            new = new.model_copy(update={"updated_utc": utc_now()})  # type: ignore[assignment] # same type as new
        if type(new) in _FINDING_CHILDREN:
            parent, attr = self._child_parent(new)
            children = [new if c.id == new.id else c for c in getattr(parent, attr)]
            self._swap_finding(parent, parent.model_copy(update={attr: children, "updated_utc": utc_now()}))
        elif isinstance(new, Finding):
            self._swap_finding(self.finding(new.id), new)
        else:
            attr = _collection_of(new)
            self._set_list(attr, [new if o.id == new.id else o for o in getattr(self, attr)])
        self._log(who, "update", new, f"{_describe(new)}: {', '.join(changed) or 'no change'}")
        return old

    def update(self, obj_id: str, *, who: str = "", **changes: Any) -> _Identified:
        """``replace`` with a copy of the object whose fields ``changes`` are set (validated); returns the
        old object. Example: ``case.update(m.id, label="L1 lesion", who="jdoe")``."""
        old = self.get(obj_id)
        data = old.model_dump()
        unknown = set(changes) - set(type(old).model_fields)
        if unknown:
            raise ValueError(f"{type(old).__name__} has no field(s) {', '.join(sorted(unknown))}")
        data.update({k: (v.model_dump() if isinstance(v, BaseModel) else v) for k, v in changes.items()})
        return self.replace(type(old).model_validate(data), who=who)

    def set_patient(self, patient: Patient, *, who: str = "") -> Patient:
        """Replace the patient; returns the old one."""
        old = self.patient
        self.patient = Patient.model_validate(patient.model_dump())
        self._log(who, "update", None, f"patient: {', '.join(changed_fields(old, self.patient)) or 'no change'}",
                  object_type="patient")
        return old

    def set_report(self, report: ReportData, *, who: str = "") -> ReportData:
        """Replace the report data; returns the old one."""
        old = self.report
        self.report = ReportData.model_validate(report.model_dump())
        self._log(who, "update", None, f"report: {', '.join(changed_fields(old, self.report)) or 'no change'}",
                  object_type="report")
        return old

    def assessment(self, score: str) -> Assessment | None:
        """The case-level assessment of ``score``, or None when it was never answered."""
        return next((a for a in self.assessments if a.score == score), None)

    def set_assessment(self, score: str, new: Assessment | None, *, who: str = "") -> Assessment | None:
        """Set (``new``) or clear (None) the answers of the case-level score ``score``; returns the old
        assessment, so ``set_assessment(score, old)`` is the inverse. One method serves every case-level score
        of the registry (:mod:`imaging.scores`)."""
        spec = score_spec(score)
        if new is not None:
            new = Assessment.model_validate(new.model_dump())
            if new.score != score:
                raise ValueError(f"the assessment is a {new.score} one, not {score}")
        old = self.assessment(score)
        items = [a for a in self.assessments if a.score != score]
        if new is not None:
            index = next((i for i, a in enumerate(self.assessments) if a.score == score), len(items))
            items.insert(index, new)
        self._set_list("assessments", items)
        summary = f"{spec.name}: " + ("cleared" if new is None else ", ".join(
            k for k in dict.fromkeys([*new.answers, *(old.answers if old else {})])
            if (old.answers if old else {}).get(k) != new.answers.get(k)) or "no change")
        self._log(who, "update", None, summary, object_type="assessment")
        return old

    def log(self, who: str, action: str, summary: str, object_type: str = "", object_id: str | None = None
            ) -> AuditEntry:
        """Append an audit entry for something that is not a model edit (open, save as, export...)."""
        entry = AuditEntry(who=who, action=action, object_type=object_type, object_id=object_id, summary=summary)
        self.audit.append(entry)
        return entry

    # -- internals --------------------------------------------------------------------------------------
    def _set_list(self, attr: str, items: list[Any]) -> None:
        # validate_assignment re-validates the whole case (ids, references); pydantic leaves a value that
        # failed the model validator assigned, so restore the old list before re-raising.
        old = self.__dict__[attr]
        try:
            setattr(self, attr, items)
        except Exception:
            self.__dict__[attr] = old
            raise

    def _swap_finding(self, old: Finding, new: Finding) -> None:
        new = Finding.model_validate(new.model_dump())  # model_copy skips the finding's own checks
        self._set_list("findings", [new if f.id == old.id else f for f in self.findings])

    def _log(self, who: str, action: str, obj: _Identified | None, summary: str,
             object_type: str | None = None) -> None:
        now = utc_now()
        self.updated_utc = now
        self.audit.append(AuditEntry(
            when_utc=now, who=who, action=action,
            object_type=object_type or (_snake(type(obj).__name__) if obj is not None else ""),
            object_id=obj.id if obj is not None else None, summary=summary))


_COLLECTIONS.update({Measurement: "measurements", Finding: "findings", VertebralLabel: "vertebral_labels",
                     Study: "studies", SeriesRef: "series", Reader: "readers"})
_FINDING_CHILDREN: dict[type, str] = {Contour: "contours", FindingTimepoint: "timepoints"}
"""Objects kept inside a finding (added, removed and replaced with the finding as their parent)."""


def _collection_of(obj: _Identified) -> str:
    try:
        return _COLLECTIONS[type(obj)]
    except KeyError:
        raise TypeError(f"a {type(obj).__name__} is not a top-level case object") from None


def _find(items: list[T], obj_id: str, what: str) -> T:
    for o in items:
        if o.id == obj_id:
            return o
    raise KeyError(f"no {what} with id {obj_id}")


def _snake(name: str) -> str:
    return "".join(("_" + c.lower()) if c.isupper() else c for c in name).lstrip("_")


def _describe(obj: _Identified) -> str:
    kind = getattr(obj, "kind", None)
    label = getattr(obj, "label", None) or getattr(obj, "name", None) or ""
    head = _snake(type(obj).__name__) + (f" {kind}" if isinstance(kind, str) else "")
    return f"{head} {label!r}" if label else head


def changed_fields(old: BaseModel, new: BaseModel) -> list[str]:
    """Dotted paths of the fields that differ between two models of the same type (for audit summaries
    and diffs); lists are compared whole."""
    out: list[str] = []

    def walk(a: Any, b: Any, prefix: str) -> None:
        if isinstance(a, dict) and isinstance(b, dict):
            for k in dict.fromkeys([*a, *b]):
                walk(a.get(k), b.get(k), f"{prefix}.{k}" if prefix else k)
        elif a != b:
            out.append(prefix)

    walk(old.model_dump(mode="json"), new.model_dump(mode="json"), "")
    return out


def case_from_json(text: str | bytes) -> Case:
    """Validate a JSON document of the current schema version into a :class:`Case` (no migration; the
    store's :func:`~imaging.case.store.load_case` migrates)."""
    return Case.model_validate_json(text)


def case_to_json(case: Case) -> str:
    """The case as JSON text in the model's declared key order, indented, UTF-8-safe (non-ASCII kept)."""
    return case.model_dump_json(indent=2) + "\n"
