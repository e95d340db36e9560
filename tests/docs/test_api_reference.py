"""The API reference page is generated from the server's own OpenAPI document: every operation
the server registers appears on it, with its summary, parameters and responses."""

from __future__ import annotations

import importlib.util
from types import ModuleType

import pytest

from spaprov.server.api import ROUTES
from tests.helpers.site import ROOT

pytestmark = pytest.mark.docs


def _hook() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "api_reference", ROOT / "docs" / "hooks" / "api_reference.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_operation_is_on_the_page() -> None:
    hook = _hook()
    page = hook.markdown(hook.openapi_document())
    for operation in ROUTES:
        assert f"## `{operation.method} {operation.path}` {{#{operation.name}}}" in page
        assert (
            f"| `{operation.method}` | [`{operation.path}`](#{operation.name}) | {operation.summary} |"
            in page
        )


def test_the_page_follows_the_document() -> None:
    """A change to the document shows on the page: nothing on it is written by hand."""
    hook = _hook()
    document = hook.openapi_document()
    document["paths"]["/api/v1/audit"]["get"]["summary"] = "Read the audit log, changed"
    document["paths"]["/api/v1/audit"]["get"]["parameters"].append(
        {
            "name": "kind",
            "in": "query",
            "required": False,
            "description": "only this event",
            "schema": {"type": "string"},
        }
    )
    page = hook.markdown(document)
    assert "Read the audit log, changed" in page
    assert "| `kind` | query | `string` | no | only this event |" in page


def test_the_page_is_in_the_site_navigation() -> None:
    assert "administration/api-reference.md" in (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert not (ROOT / "docs" / "administration" / "api-reference.md").exists(), "generated, never written"
