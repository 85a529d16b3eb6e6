"""Series classification and hanging protocols (Qt-free).

* `classify` -- what each series is (plane, weighting, Dixon image, fat suppression, contrast, CT kernel,
  role such as "localizer") from its headers;
* `protocol` -- hanging protocols as data (shipped defaults in ``defaults.json`` plus the reader's own file),
  and `hang`: which series goes in which view for a study.
"""

from imaging.protocols.classify import HANGABLE_ROLES, SeriesClass, classify_all, classify_header, classify_series

__all__ = ["HANGABLE_ROLES", "SeriesClass", "classify_all", "classify_header", "classify_series"]
