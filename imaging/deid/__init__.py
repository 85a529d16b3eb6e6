"""De-identification for research export (DICOM PS3.15 Annex E Basic Application Level Confidentiality Profile
with options) across DICOM files, case files and exports. Qt-free.

Modules: :mod:`~imaging.deid.table` (Table E.1-1 and the options), :mod:`~imaging.deid.keys` (the key and
the HMAC pseudonyms, date shifts and UIDs), :mod:`~imaging.deid.text` (free-text scrubbing),
:mod:`~imaging.deid.dicom` (one dataset), :mod:`~imaging.deid.case` (one case file),
:mod:`~imaging.deid.folder` (a whole folder: DICOM, case files, CSVs, reports, the log).
"""
