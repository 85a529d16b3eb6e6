"""The exports of the app: the Qt-free registry (:mod:`imaging.case.exports`) plus the PDF report, which
prints the HTML report through Qt's PDF writer (:mod:`app.report_pdf`, imported only when a PDF is written,
with an offscreen application when there is none). Importing this module does not import Qt."""

from __future__ import annotations

from imaging.case.exports import (
    ExportJob,
    ExportSpec,
    key_image_notes,
    register_export,
    registered_exports,
    report_volumes,
)

__all__ = ["export_specs"]


def _write_pdf_report(job: ExportJob) -> list[str]:
    from app.application import create_application

    create_application(headless=True)  # the running application in the GUI; an offscreen one on the command line
    from app.report_pdf import write_pdf_report

    volumes, problems = report_volumes(job)
    write_pdf_report(job.case, job.out, volumes=volumes, problems=problems)
    return key_image_notes(problems)


PDF_REPORT = ExportSpec("pdf", "PDF report", "&PDF Report\u2026", "-report.pdf", "PDF (*.pdf)", "--report",
                        "report with key images: HTML (one file) or PDF (A4), by the file's extension",
                        _write_pdf_report, extension=".pdf")
if "pdf" not in {s.key for s in registered_exports()}:
    register_export(PDF_REPORT)


def export_specs() -> tuple[ExportSpec, ...]:
    """Every export of the app, in menu order."""
    return registered_exports()
