"""The case: model (pydantic), file store (atomic saves, recovery, lock, migration) and exports. Qt-free.

    from imaging.case import Case, Measurement, Finding, load_case, save_case, CaseDocument
"""

from imaging.case.analysis import (
    LesionDimensions,
    auto_fill_levels,
    compute_stats,
    escc_group_of,
    finding_levels,
    lesion_dimensions,
    level_at_point,
    measurement_from_drawing,
)
from imaging.case.model import (
    SCHEMA_VERSION,
    SECTORS,
    AuditEntry,
    BilskyAssessment,
    Case,
    Contour,
    Finding,
    LevelInvolvement,
    Measurement,
    MeasurementPlane,
    Patient,
    PlaneSpec,
    Reader,
    ReportData,
    ReportedDimension,
    RoiStatsCache,
    SeriesRef,
    SinsAssessment,
    Study,
    SuggestionReason,
    Treatment,
    VertebralLabel,
    changed_fields,
    new_id,
    utc_now,
)

from imaging.spine.bilsky import BILSKY_GRADES  # isort: skip - re-exported with the model's names
from imaging.case.store import (
    AutosavePolicy,
    CaseDocument,
    CaseFileCorrupt,
    CaseFileError,
    CaseFileInvalid,
    CaseFileNewerVersion,
    CaseLock,
    CaseLocked,
    CaseReadOnly,
    RecoveryInfo,
    discard_recovery,
    find_recovery,
    load_case,
    save_case,
    write_recovery,
)

__all__ = [
    "BILSKY_GRADES", "SCHEMA_VERSION", "SECTORS",
    "AuditEntry", "AutosavePolicy", "BilskyAssessment", "Case", "CaseDocument", "CaseFileCorrupt",
    "CaseFileError", "CaseFileInvalid", "CaseFileNewerVersion", "CaseLock", "CaseLocked", "CaseReadOnly",
    "Contour", "Finding", "LesionDimensions", "LevelInvolvement", "Measurement", "MeasurementPlane", "Patient",
    "PlaneSpec", "Reader", "RecoveryInfo", "ReportData", "ReportedDimension", "RoiStatsCache", "SeriesRef",
    "SinsAssessment", "Study", "SuggestionReason", "Treatment", "VertebralLabel",
    "auto_fill_levels", "changed_fields", "compute_stats", "discard_recovery", "escc_group_of", "find_recovery",
    "finding_levels", "level_at_point", "lesion_dimensions", "measurement_from_drawing", "load_case", "new_id",
    "save_case", "utc_now", "write_recovery",
]
