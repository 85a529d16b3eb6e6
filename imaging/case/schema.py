"""The JSON Schema of ``*.spinecase.json`` (generated from the model; committed as docs/spinecase.schema.json)."""

from __future__ import annotations

import json
from typing import Any

from imaging.case.model import SCHEMA_VERSION, Case

SCHEMA_ID = f"https://spinecase.invalid/schema/spinecase-v{SCHEMA_VERSION}.schema.json"


def case_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the current case-file version."""
    schema = Case.model_json_schema(mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID,
            "title": "SpineCase case file (*.spinecase.json)",
            "description": f"SpineCase case file, schema version {SCHEMA_VERSION}. UTF-8 JSON; times are ISO 8601 "
                           "UTC; coordinates are DICOM patient LPS in millimetres. Research software, not a "
                           "diagnostic device.",
            **{k: v for k, v in schema.items() if k not in ("title", "description")}}


def case_json_schema_text() -> str:
    """:func:`case_json_schema` as the text written to docs/spinecase.schema.json (stable, final newline)."""
    return json.dumps(case_json_schema(), indent=2, ensure_ascii=False) + "\n"
