"""The config `bd-vpt init` writes is taken without the schema's check (config.as_init_wrote):
only when it is exactly that document, and the schema holds for every such document."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bd_vpt.config import as_init_wrote, default_document, from_document
from bd_vpt.errors import VptError
from bd_vpt.ledger.schemas import config_errors

DATES = st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", fullmatch=True)


@settings(max_examples=200, deadline=None)
@given(since=DATES)
def test_the_schema_holds_for_every_document_init_writes(since: str) -> None:
    document = default_document(since)
    assert as_init_wrote(document)
    assert config_errors(document) == []


def _changed(how: str) -> dict[str, Any]:
    document = copy.deepcopy(default_document("2026-12-01"))
    if how == "int weight":
        document["weights"]["P0"] = 8
    elif how == "bool version":
        document["version"] = True
    elif how == "float version":
        document["version"] = 1.0
    elif how == "key added":
        document["extra"] = {}
    elif how == "source added":
        document["capture"]["sources"] = ["sync"]
    elif how == "odd date":
        document["capture"]["sync_since"] = "2026-12-01T00:00:00Z"
    elif how == "unicode digits":
        document["capture"]["sync_since"] = "\uff12026-12-01"
    elif how == "nan":
        document["rates"]["human_usd_per_hour"] = float("nan")
    return document


@pytest.mark.parametrize(
    "how",
    [
        "int weight",
        "bool version",
        "float version",
        "key added",
        "source added",
        "odd date",
        "unicode digits",
        "nan",
    ],
)
def test_any_other_document_is_checked_by_the_schema(how: str) -> None:
    assert not as_init_wrote(_changed(how))


def test_a_bad_document_is_still_refused() -> None:
    with pytest.raises(VptError):
        from_document(_changed("bool version"))
    with pytest.raises(VptError):  # (init's shape, a day that does not exist)
        from_document(default_document("2026-13-45"))
    assert from_document(default_document("2026-12-01")).sync_since == "2026-12-01"
