"""MkDocs hook: the API reference page, generated at build time from the OpenAPI document the
server itself serves at /api/v1/openapi.json (spaprov.server.openapi), so it is never written
twice.  The page is administration/api-reference.md; the document is published beside it as
administration/openapi.json."""

from __future__ import annotations

import json
from typing import Any

PAGE = "administration/api-reference.md"
DOCUMENT = "administration/openapi.json"
_METHODS = ("get", "post", "put", "delete")


def openapi_document() -> dict[str, Any]:
    from spaprov.server.api import ROUTES
    from spaprov.server.openapi import document

    return document(ROUTES)


def _schema_text(schema: dict[str, Any], components: dict[str, Any]) -> str:
    reference = schema.get("$ref", "")
    if reference:
        name = reference.rsplit("/", 1)[-1]
        return f"[`{name}`](#schema-{name.lower()})"
    return f"`{schema.get('type', 'any')}`"


def markdown(doc: dict[str, Any]) -> str:
    """The reference page for an OpenAPI 3.1 document."""
    info = doc["info"]
    components = doc.get("components", {})
    lines = [
        "# API reference",
        "",
        f"*{info['title']}, version {info['version']}: generated from the OpenAPI "
        f"{doc['openapi']} document the server serves at `GET /api/v1/openapi.json`, when this "
        "site was built. The same document is [here as JSON](openapi.json).*",
        "",
        info.get("description", ""),
        "",
        "Authentication: HTTP Basic (an administrator of `admins.toml`) on every operation "
        "unless it says *no authentication*. The errors of every operation have the "
        "[`Error`](#schema-error) shape.",
        "",
        "| method | path | what it does |",
        "|---|---|---|",
    ]
    operations = [
        (method.upper(), path, operation)
        for path, item in doc["paths"].items()
        for method, operation in item.items()
        if method in _METHODS
    ]
    for method, path, operation in operations:
        lines.append(f"| `{method}` | [`{path}`](#{operation['operationId']}) | {operation['summary']} |")
    for method, path, operation in operations:
        lines += ["", f"## `{method} {path}` {{#{operation['operationId']}}}", "", operation["summary"] + "."]
        if operation.get("security") == []:
            lines += ["", "*No authentication.*"]
        parameters = operation.get("parameters", [])
        if parameters:
            lines += ["", "| parameter | in | type | required | meaning |", "|---|---|---|---|---|"]
            for parameter in parameters:
                lines.append(
                    f"| `{parameter['name']}` | {parameter['in']} | `{parameter['schema']['type']}` | "
                    f"{'yes' if parameter.get('required') else 'no'} | {parameter.get('description', '')} |"
                )
        body = operation.get("requestBody")
        if body:
            schema = body["content"]["application/json"]["schema"]
            lines += ["", f"Request body (`application/json`): {_schema_text(schema, components)}."]
        lines += ["", "| status | meaning |", "|---|---|"]
        for status, response in operation["responses"].items():
            lines.append(f"| {status} | {response['description']} |")
    lines += ["", "## Schemas"]
    for name, schema in components.get("schemas", {}).items():
        lines += [
            "",
            f"### `{name}` {{#schema-{name.lower()}}}",
            "",
            *([schema["description"], ""] if "description" in schema else []),
            "```json",
            json.dumps(schema, indent=2),
            "```",
        ]
    return "\n".join(lines) + "\n"


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    doc = openapi_document()
    files.append(File.generated(config, PAGE, content=markdown(doc)))
    files.append(File.generated(config, DOCUMENT, content=json.dumps(doc, indent=2) + "\n"))
    return files
