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

    return Draft202012Validator(load_schema(name))


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
