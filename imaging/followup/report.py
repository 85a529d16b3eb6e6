"""The report's follow-up page (Qt-free): per lesion followed over more than one date, the size-over-time plot
(SVG, embedded as a ``data:`` image so the HTML stays one file), the summary and the table of timepoints;
then the RECIST 1.1 response of the target lesions and the sources. Empty for a case read at one date only
(its report stays as it was).

The same words and figures as the Follow-up panel (:mod:`imaging.followup.present`).
"""

from __future__ import annotations

import base64
import html

from imaging.case.model import Case
from imaging.followup.evaluate import FollowUp, evaluate_follow_up
from imaging.followup.plot import plot_svg
from imaging.followup.present import (
    COLUMN_WIDTHS_PCT,
    TABLE_COLUMNS,
    lesion_plot,
    lesion_summary,
    lesion_table,
    recist_summary,
    sources_note,
)

__all__ = ["PLOT_SIZE", "followup_section_html"]

PLOT_SIZE = (520, 240)
"""The plot's size in CSS pixels."""


def _e(v: object) -> str:
    return html.escape("" if v is None else str(v))


def followup_section_html(case: Case, follow: FollowUp | None = None) -> str:
    """The follow-up page as an HTML fragment ("" when no lesion has two dated timepoints and no target is
    marked)."""
    follow = follow or evaluate_follow_up(case)
    lesions = [x for x in follow.lesions if len(x.timepoints) > 1]
    if not lesions and not follow.targets:
        return ""
    out = ["<h2 class='followup' style='page-break-before: always'>Follow-up</h2>",
           f"<p class='muted'>{_e(sources_note())}</p>"]
    for lesion in lesions:
        f = lesion.finding
        out.append(f"<h3>{_e(f.label or 'Lesion')}</h3>")
        svg = plot_svg(lesion_plot(lesion), *PLOT_SIZE)
        data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
        out.append(f"<div class='plot'><img alt='longest diameter over time' width='{PLOT_SIZE[0]}' "
                   f"height='{PLOT_SIZE[1]}' src='data:image/svg+xml;base64,{data}'></div>")
        lines = lesion_summary(follow, lesion)
        if lines:
            out.append("<p>" + "<br>".join(_e(x) for x in lines) + "</p>")
        out.append("<table><tr>" + "".join(f"<th width='{w}%'>{_e(c)}</th>"
                                           for c, w in zip(TABLE_COLUMNS, COLUMN_WIDTHS_PCT, strict=True)) + "</tr>")
        for row in lesion_table(lesion):
            cells = "".join(f"<td>{_e(c)}</td>" for c in row.cells)
            out.append(f"<tr>{cells}</tr>")
        out.append("</table>")
    recist = recist_summary(follow)
    if recist:
        out.append("<h3>RECIST 1.1</h3><p>" + "<br>".join(_e(x) for x in recist) + "</p>")
    if follow.undated:
        names = ", ".join(case.finding(fid).label or fid for fid in follow.undated)
        out.append(f"<p class='muted'>Not placed in time (no study date): {_e(names)}</p>")
    return "\n".join(out) + "\n"
