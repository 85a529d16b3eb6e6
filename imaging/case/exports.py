"""The export registry: every way a case leaves SpineCase, one entry each (Qt-free).

An entry carries its writer, the default file-name suffix, the file-dialog filter, the ``spinecase export``
flag and the File > Export menu label; the command line (``app/commands/export.py``) and the menu
(``app/feature_case.py``) are generated from the registry, so a new export is one :func:`register_export`.
Entries that share a command-line flag are told apart by the output file's extension (``--report r.pdf``
writes the PDF report, any other name the HTML one: the first entry of the flag is its default).

The Qt-free entries are registered here (measurements CSV, findings CSV, follow-up CSV, DICOM SR, HTML report); the PDF
report needs Qt's PDF writer, so ``app/exports.py`` registers it (read the whole registry through
``app.exports.export_specs()`` in the app). Writers take an :class:`ExportJob` and return the notes the reader
should see (what was left out and why); they raise ``LoadError``, ``ValueError`` or ``OSError`` for an
export that could not be written.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from imaging.case.model import Case
    from imaging.volume import Volume

__all__ = [
    "ExportJob",
    "ExportSpec",
    "cli_groups",
    "export_spec",
    "key_image_notes",
    "register_export",
    "registered_exports",
    "report_volumes",
    "spec_for_flag",
    "unregister_export",
]


@dataclass
class ExportJob:
    """One export to write: the ``case``, the case file's path (``case_path``: where path hints are relative
    to; for a case never saved, a name in the folder the hints are relative to), the output file ``out``,
    folders to search for the case's series, and series already loaded (by SeriesInstanceUID; the writers
    load the others they need)."""

    case: Case
    case_path: Path
    out: Path
    search_folders: tuple[Path, ...] = ()
    volumes: Mapping[str, Volume] = field(default_factory=dict)


Writer = Callable[[ExportJob], list[str]]


@dataclass(frozen=True)
class ExportSpec:
    """An export: ``key`` (``"sr"``), ``what`` it is in sentences ("DICOM SR"), the menu label (with its
    mnemonic, "DICOM &SR…"), the default file-name ``suffix`` after the case's name ("-sr.dcm"), the file
    dialog's ``file_filter``, the command-line ``cli_flag`` and its ``cli_help``, ``extension`` (the output
    extension that selects this entry among those sharing its flag) and the ``writer``."""

    key: str
    what: str
    menu_label: str
    suffix: str
    file_filter: str
    cli_flag: str
    cli_help: str
    writer: Writer
    extension: str = ""


_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_FLAG = re.compile(r"^--[a-z][a-z0-9-]*$")
_EXPORTS: dict[str, ExportSpec] = {}
_lock = threading.RLock()


def register_export(spec: ExportSpec, *, replace: bool = False) -> ExportSpec:
    """Add an export (returns it). ValueError for a malformed entry or a key already registered."""
    if not _KEY.match(spec.key):
        raise ValueError(f"an export key is lower-case letters, digits and _, got {spec.key!r}")
    if not _FLAG.match(spec.cli_flag) or spec.cli_flag in ("--search", "--help"):
        raise ValueError(f"export {spec.key!r} has an unusable command-line flag {spec.cli_flag!r}")
    with _lock:
        if spec.key in _EXPORTS and not replace:
            raise ValueError(f"export {spec.key!r} is already registered")
        _EXPORTS[spec.key] = spec
    return spec


def unregister_export(key: str) -> None:
    with _lock:
        _EXPORTS.pop(key, None)


def registered_exports() -> tuple[ExportSpec, ...]:
    """The exports in menu order (registration order)."""
    with _lock:
        return tuple(_EXPORTS.values())


def export_spec(key: str) -> ExportSpec:
    try:
        return _EXPORTS[key]
    except KeyError:
        raise ValueError(f"unknown export {key!r}; expected one of {', '.join(_EXPORTS)}") from None


def cli_groups(specs: Iterable[ExportSpec] | None = None) -> dict[str, list[ExportSpec]]:
    """The entries by command-line flag, in order (a flag's first entry is its default)."""
    groups: dict[str, list[ExportSpec]] = {}
    for spec in registered_exports() if specs is None else specs:
        groups.setdefault(spec.cli_flag, []).append(spec)
    return groups


def spec_for_flag(group: list[ExportSpec], out: Path) -> ExportSpec:
    """The entry of a flag that writes ``out``: the one whose extension it has, else the flag's first."""
    ext = out.suffix.lower()
    return next((s for s in group if s.extension and s.extension == ext), group[0])


# -- the Qt-free writers -----------------------------------------------------------------------------------------
def report_volumes(job: ExportJob) -> tuple[dict[str, Volume], dict[str, str]]:
    """The volumes a report's key images need (the series of the measurements and contours): those already
    loaded, the others loaded from the case's path hints (and the search folders); and why a series could
    not be loaded."""
    case = job.case
    wanted = {m.series_instance_uid for m in case.measurements if m.series_instance_uid}
    wanted |= {c.series_instance_uid for f in case.findings for c in f.contours if c.series_instance_uid}
    volumes = {uid: v for uid, v in job.volumes.items() if uid in wanted}
    missing = sorted(wanted - set(volumes))
    problems: dict[str, str] = {}
    if missing:
        from imaging.case.export_report import load_case_volumes

        more, problems = load_case_volumes(case, job.case_path, missing, job.search_folders)
        volumes.update(more)
    return volumes, problems


def key_image_notes(problems: Mapping[str, str]) -> list[str]:
    return [f"series {uid} has no key images: {why}" for uid, why in problems.items()]


def _write_measurements_csv(job: ExportJob) -> list[str]:
    from imaging.case.export_csv import write_measurements_csv

    write_measurements_csv(job.case, job.out)
    return []


def _write_findings_csv(job: ExportJob) -> list[str]:
    from imaging.case.export_csv import write_findings_csv

    write_findings_csv(job.case, job.out)
    return []


def _write_followup_csv(job: ExportJob) -> list[str]:
    from imaging.followup.export_csv import write_followup_csv

    write_followup_csv(job.case, job.out)
    return []


def _write_sr(job: ExportJob) -> list[str]:
    from imaging.case.export_sr import write_sr

    result = write_sr(job.case, job.case_path, job.out, search_folders=job.search_folders)
    return [f"measurement {mid} left out of the SR: {why}" for mid, why in result.skipped.items()]


def _write_html_report(job: ExportJob) -> list[str]:
    from imaging.case.export_report import build_html_report
    from imaging.case.store import atomic_write

    volumes, problems = report_volumes(job)
    atomic_write(job.out, build_html_report(job.case, volumes, problems).encode("utf-8"))
    return key_image_notes(problems)


for _spec in (
    ExportSpec("csv", "measurements CSV", "Measurements &CSV\u2026", "-measurements.csv", "CSV (*.csv)", "--csv",
               "one row per measurement value", _write_measurements_csv),
    ExportSpec("findings_csv", "findings CSV", "&Findings CSV\u2026", "-findings.csv", "CSV (*.csv)",
               "--findings-csv", "one row per finding", _write_findings_csv),
    ExportSpec("followup_csv", "follow-up CSV", "F&ollow-up CSV\u2026", "-followup.csv", "CSV (*.csv)",
               "--followup", "follow-up CSV: one row per lesion and timepoint (change, growth rate, RECIST 1.1)",
               _write_followup_csv),
    ExportSpec("sr", "DICOM SR", "DICOM &SR\u2026", "-sr.dcm", "DICOM (*.dcm)", "--sr",
               "DICOM Comprehensive 3D SR measurement report", _write_sr),
    ExportSpec("html", "HTML report", "&HTML Report\u2026", "-report.html", "HTML (*.html)", "--report",
               "report with key images: HTML (one file) or PDF (A4), by the file's extension", _write_html_report,
               extension=".html"),
):
    register_export(_spec)
