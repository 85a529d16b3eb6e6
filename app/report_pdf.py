"""The case report as PDF, through Qt's own PDF writer (``QPdfWriter`` and ``QTextDocument``, both in QtGui).

The report is the HTML of :func:`imaging.case.export_report.build_html_report`. ``QTextDocument`` renders a
subset of HTML/CSS (no flex boxes, no ``figure``, no ``data:`` images), so :func:`printable_html` adapts it
first: the key images become document resources packed in rows (true aspect, captions below), the follow-up
plots (SVG) are drawn to images at twice their size, and
the style sheet is replaced by one QTextDocument understands. Pages are A4 with 12 mm margins; each page
carries a footer with the case id, the page number and the research-software notice.

    write_pdf_report(case, "report.pdf", volumes=...)   # build the HTML and print it
    html_to_pdf(html, "report.pdf")                     # any report HTML
    render_pages(html, dpi=110) -> list[QImage]          # the same pages as images (preview, tests)

Needs a QGuiApplication (the app has one; the command line creates an offscreen one).
"""

from __future__ import annotations

import base64
import html as html_lib
import re
from collections.abc import Mapping
from pathlib import Path

from PySide6.QtCore import QMarginsF, QRectF, QSizeF, Qt, QUrl
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QImage,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QTextDocument,
)

from imaging.case.model import Case
from imaging.volume import Volume

__all__ = ["PAGE_MARGIN_MM", "html_to_pdf", "printable_html", "render_pages", "write_pdf_report"]

PAGE_MARGIN_MM = 12.0
FOOTER_MM = 6.0
_LAYOUT_DPI = 96.0  # the document is laid out in 96-dpi pixels (what HTML sizes mean), then scaled
_A4_MM = (210.0, 297.0)
_PAGE_WIDTH_PX = round((_A4_MM[0] - 2 * PAGE_MARGIN_MM) / 25.4 * _LAYOUT_DPI)
_KEY_IMAGE_BOX_PX = (340, 320)  # two square images per row on A4 (about 90 x 85 mm each)

_QT_CSS = """
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 9.5pt; color: #111111; }
h1 { font-size: 15pt; margin-bottom: 2px; }
h2 { font-size: 12pt; margin-top: 14px; margin-bottom: 4px; color: #1a3550; }
.notice { font-size: 8.5pt; color: #883333; }
.muted { color: #555555; font-size: 8pt; }
th { background-color: #e8e8e8; font-weight: bold; text-align: left; font-size: 8.5pt; }
td, th { vertical-align: top; }
td.num { text-align: right; }
.cap { font-size: 8pt; }
"""

_FIGURE = re.compile(
    r"<figure><img [^>]*?width='(\d+)' height='(\d+)' src='data:image/png;base64,([A-Za-z0-9+/=]+)'>"
    r"<figcaption>(.*?)</figcaption></figure>", re.DOTALL)


def printable_html(html: str) -> tuple[str, dict[str, QImage]]:
    """The report HTML adapted to ``QTextDocument`` and its key images by resource name."""
    images: dict[str, QImage] = {}

    def figures(m: re.Match[str]) -> str:
        # Each image fits a box (keeping its true aspect: a thick-slice reformat is a narrow strip); images
        # are packed into rows as wide as the page.
        cells: list[tuple[int, str]] = []
        for f in _FIGURE.finditer(m.group(1)):
            name = f"spinecase-key-image-{len(images) + 1}.png"
            images[name] = QImage.fromData(base64.b64decode(f.group(3)), "PNG")
            w, h = max(int(f.group(1)), 1), max(int(f.group(2)), 1)
            scale = min(_KEY_IMAGE_BOX_PX[0] / w, _KEY_IMAGE_BOX_PX[1] / h)
            width, height = max(1, round(w * scale)), max(1, round(h * scale))
            cell_width = max(width, 150)  # room for the caption beside a narrow strip
            cells.append((cell_width, f"<td width='{cell_width}'><img src='{name}' width='{width}' "
                                      f"height='{height}'><br><span class='cap'>{f.group(4)}</span></td>"))
        rows: list[list[tuple[int, str]]] = [[]]
        for cell in cells:
            if rows[-1] and sum(c[0] + 10 for c in rows[-1]) + cell[0] > _PAGE_WIDTH_PX:
                rows.append([])
            rows[-1].append(cell)
        return "".join("<table cellspacing='0' cellpadding='4' border='0'><tr>" + "".join(c[1] for c in row)
                       + "</tr></table>" for row in rows if row)

    def plot(m: re.Match[str]) -> str:  # the follow-up plots (SVG), drawn at twice their size for print
        name = f"spinecase-plot-{len(images) + 1}.png"
        w, h = int(m.group(1)), int(m.group(2))
        images[name] = _svg_image(base64.b64decode(m.group(3)), 2 * w, 2 * h)
        width = min(_PAGE_WIDTH_PX, round(w * 1.25))
        return f"<p><img src='{name}' width='{width}' height='{round(h * width / w)}'></p>"

    html = re.sub(r"<div class='plot'><img [^>]*?width='(\d+)' height='(\d+)' "
                  r"src='data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)'></div>", plot, html)
    out = re.sub(r"<div class='figs'>(.*?)</div>", figures, html, flags=re.DOTALL)
    out = re.sub(r"<style>.*?</style>", f"<style>{_QT_CSS}</style>", out, count=1, flags=re.DOTALL)
    # Tables: QTextDocument takes borders and padding from attributes, not from CSS.
    out = re.sub(r"<table class='kv'>(.*?)</table>", _key_value_table, out, flags=re.DOTALL)
    out = out.replace("<table>", "<table width='100%' border='1' cellspacing='0' cellpadding='3' "
                                 "style='border-color:#bbbbbb; border-style:solid;'>")
    # The findings table: room for the finding's name and notes (QTextDocument sizes columns by their words).
    out = out.replace("<tr><th>Finding</th><th>Levels</th><th>Involvement</th>",
                      "<tr><th width='21%'>Finding</th><th>Levels</th><th width='15%'>Involvement</th>", 1)
    out = out.replace("<th>Dimensions (AP x LR x CC)</th><th>Measurements</th></tr>",
                      "<th width='14%'>Dimensions (AP x LR x CC)</th><th width='15%'>Measurements</th></tr>", 1)
    # <pre> does not wrap in QTextDocument: keep the line breaks, wrap long lines.
    out = out.replace("<pre>", "<p style='white-space:pre-wrap; margin:0;'>").replace("</pre>", "</p>")
    # Colour swatches (inline-block spans) are not supported: draw them as coloured squares.
    out = re.sub(r'<span class="sw" style="background:rgb\((\d+), (\d+), (\d+)\)"></span>', _swatch, out)
    return out, images


def _svg_image(svg: bytes, width: int, height: int) -> QImage:
    """An SVG (the follow-up plot) drawn on a white image of ``width`` x ``height`` pixels."""
    from PySide6.QtCore import QByteArray
    from PySide6.QtSvg import QSvgRenderer

    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    QSvgRenderer(QByteArray(svg)).render(painter)
    painter.end()
    return image


def _swatch(m: re.Match[str]) -> str:
    r, g, b = (int(v) for v in m.groups())
    if min(r, g, b) > 190:  # near-white (the canal outline): invisible on paper, so an outlined square
        return "<span style='color:#777777; font-size:11pt;'>&#9633;</span>"
    return f"<span style='color:#{r:02x}{g:02x}{b:02x}; font-size:11pt;'>&#9632;</span>"


def _key_value_table(m: re.Match[str]) -> str:
    body = m.group(1).replace("<th>", "<th width='26%'>").replace("<td>", "<td width='74%'>")
    return ("<table class='kv' width='100%' border='1' cellspacing='0' cellpadding='4' "
            f"style='border-color:#bbbbbb; border-style:solid;'>{body}</table>")


def _title_of(html: str) -> str:
    m = re.search(r"<title>(.*?)</title>", html, re.DOTALL)
    return html_lib.unescape(m.group(1)).strip() if m else "SpineCase report"


def _document(html: str) -> tuple[QTextDocument, QSizeF]:
    text, images = printable_html(html)
    doc = QTextDocument()
    doc.setDefaultFont(QFont("DejaVu Sans", 9))
    for name, image in images.items():
        doc.addResource(QTextDocument.ResourceType.ImageResource, QUrl(name), image)
    doc.setHtml(text)
    doc.setDocumentMargin(0)
    w_mm = _A4_MM[0] - 2 * PAGE_MARGIN_MM
    h_mm = _A4_MM[1] - 2 * PAGE_MARGIN_MM - FOOTER_MM
    size = QSizeF(w_mm / 25.4 * _LAYOUT_DPI, h_mm / 25.4 * _LAYOUT_DPI)
    doc.setPageSize(size)
    return doc, size


def _paint_page(painter: QPainter, doc: QTextDocument, size: QSizeF, page: int, pages: int, footer: str,
                scale: float, margin_px: float) -> None:
    painter.save()
    painter.translate(margin_px, margin_px)
    painter.scale(scale, scale)
    painter.save()
    painter.translate(0, -page * size.height())
    doc.drawContents(painter, QRectF(0, page * size.height(), size.width(), size.height()))
    painter.restore()
    # footer: a font sized in layout pixels, so the painter's scale brings it to 7 pt on any device (a point
    # size would be resolved at the device's resolution -- 300 dpi on the PDF -- and then scaled again)
    footer_px = FOOTER_MM / 25.4 * _LAYOUT_DPI
    y = size.height() + footer_px * 0.25
    painter.setPen(QColor("#666666"))
    font = QFont("DejaVu Sans")
    font.setPixelSize(max(1, round(7.0 / 72.0 * _LAYOUT_DPI)))
    painter.setFont(font)
    rect = QRectF(0, y, size.width(), footer_px * 0.75)
    painter.drawLine(rect.topLeft(), rect.topRight())
    metrics = QFontMetricsF(font)
    right = f"page {page + 1} of {pages}"
    right_w = metrics.horizontalAdvance(right) + 2
    left = metrics.elidedText(f"{footer} \u2014 research software, not a diagnostic device", Qt.ElideMiddle,
                              size.width() - right_w - 12)
    painter.drawText(QRectF(rect.left(), rect.top(), rect.width() - right_w - 12, rect.height()),
                     int(Qt.AlignLeft | Qt.AlignVCenter), left)
    painter.drawText(QRectF(rect.right() - right_w, rect.top(), right_w, rect.height()),
                     int(Qt.AlignRight | Qt.AlignVCenter), right)
    painter.restore()


def html_to_pdf(html: str, out: str | Path, *, resolution: int = 300) -> Path:
    """Print report HTML to an A4 PDF at ``out`` (written to a temporary file first, then moved into place)."""
    import os

    out = Path(out)
    doc, size = _document(html)
    pages = max(1, doc.pageCount())
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    writer = QPdfWriter(str(tmp))
    writer.setResolution(resolution)
    writer.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.A4), QPageLayout.Orientation.Portrait,
                                     QMarginsF(0, 0, 0, 0), QPageLayout.Unit.Millimeter))
    writer.setTitle(_title_of(html))
    writer.setCreator("SpineCase")
    painter = QPainter()
    if not painter.begin(writer):
        raise OSError(f"cannot write the PDF {out}")
    try:
        scale = resolution / _LAYOUT_DPI
        margin = PAGE_MARGIN_MM / 25.4 * resolution
        for page in range(pages):
            if page:
                writer.newPage()
            _paint_page(painter, doc, size, page, pages, _title_of(html), scale, margin)
    finally:
        painter.end()
    if not tmp.is_file() or tmp.stat().st_size == 0:
        raise OSError(f"the PDF writer produced nothing for {out}")
    os.replace(tmp, out)
    return out


def render_pages(html: str, dpi: float = 110.0) -> list[QImage]:
    """The PDF's pages as white RGB images at ``dpi`` (for previews and for looking at the layout)."""
    doc, size = _document(html)
    pages = max(1, doc.pageCount())
    w = round(_A4_MM[0] / 25.4 * dpi)
    h = round(_A4_MM[1] / 25.4 * dpi)
    out = []
    for page in range(pages):
        img = QImage(w, h, QImage.Format.Format_RGB32)
        img.fill(QColor("white"))
        painter = QPainter(img)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        _paint_page(painter, doc, size, page, pages, _title_of(html), dpi / _LAYOUT_DPI,
                    PAGE_MARGIN_MM / 25.4 * dpi)
        painter.end()
        out.append(img)
    return out


def write_pdf_report(case: Case, out: str | Path, *, case_path: str | Path | None = None,
                     volumes: Mapping[str, Volume] | None = None, problems: Mapping[str, str] | None = None,
                     search_folders: list[str | Path] | None = None) -> Path:
    """Build the case's HTML report and print it to ``out``. Key images use ``volumes`` (by
    SeriesInstanceUID); without them the series are loaded from the case's path hints relative to
    ``case_path`` (and ``search_folders``)."""
    from imaging.case.export_report import build_html_report, load_case_volumes

    problems = dict(problems or {})
    if volumes is None and case_path is not None:
        uids = sorted({m.series_instance_uid for m in case.measurements if m.series_instance_uid}
                      | {c.series_instance_uid for f in case.findings for c in f.contours if c.series_instance_uid})
        volumes, found_problems = load_case_volumes(case, case_path, uids, search_folders or [])
        problems.update(found_problems)
    return html_to_pdf(build_html_report(case, volumes, problems), out)
