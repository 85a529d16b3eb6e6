"""Follow-up: one lesion tracked across studies — change, growth rate, RECIST 1.1 response, Bilsky and SINS
change (Qt-free). Thresholds and their sources live in :mod:`imaging.followup.criteria` only.

Modules: :mod:`~imaging.followup.criteria` (thresholds, sources, the month), :mod:`~imaging.followup.growth`
(growth rates from study dates), :mod:`~imaging.followup.recist` (measurability, target response),
:mod:`~imaging.followup.change` (one lesion's change over its timepoints), :mod:`~imaging.followup.plot`
(the size-over-time plot as data and SVG).

Research software, not a diagnostic device.
"""
