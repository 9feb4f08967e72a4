"""The JSON Schemas shipped in schema/ (package bd_vpt.schema) and their validators."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any


def load_schema(name: str) -> dict[str, Any]:
    text = files("bd_vpt.schema").joinpath(f"{name}.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _validator(name: str) -> Any:
    from jsonschema import Draft202012Validator

    if name != "record":
        return Draft202012Validator(load_schema(name))
    return _record_validator()


def _record_validator() -> Any:
    """The record schema read the way the ledger means it: an integer is an int (not 1.0,
    not true), a number is finite, and `date-time` is records.ts_ok (a real moment in
    years 0001..9999 in UTC). So the schema and the fast check accept the same lines."""
    import math

    from jsonschema import Draft202012Validator, FormatChecker, validators

    from bd_vpt.ledger.records import ts_ok

    types = Draft202012Validator.TYPE_CHECKER.redefine_many(
        {
            "integer": lambda _checker, value: type(value) is int,
            "number": lambda _checker, value: (
                type(value) is int or (type(value) is float and math.isfinite(value))
            ),
        }
    )
    strict = validators.extend(Draft202012Validator, type_checker=types)  # type: ignore[no-untyped-call]
    formats = FormatChecker(formats=())
    formats.checks("date-time")(ts_ok)
    return strict(load_schema("record"), format_checker=formats)


def _messages(name: str, document: object) -> list[str]:
    errors = sorted(_validator(name).iter_errors(document), key=lambda e: list(e.absolute_path))
    out = []
    for error in errors:
        where = ".".join(str(p) for p in error.absolute_path)
        out.append(f"{where}: {error.message}" if where else error.message)
    return out


def record_errors(record: object) -> list[str]:
    return _messages("record", record)


def config_errors(document: object) -> list[str]:
    return _messages("config", document)
