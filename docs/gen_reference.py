"""The workflow-file reference, generated from the pydantic schema of ``uqms.config``.

Used as an mkdocs hook (``hooks:`` in ``mkdocs.yml``): ``on_files`` adds the page
``workflow-reference.md`` built by :func:`reference_markdown` at every build, so the
reference lists exactly the sections, keys, types, defaults and descriptions the
code validates.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from uqms.config import WorkflowFile

PAGE = "workflow-reference.md"
EXAMPLE = Path(__file__).resolve().parents[1] / "workflows" / "ishigami.toml"
_SCALARS = {"string": "string", "number": "float", "integer": "integer", "boolean": "boolean"}
_MISSING = object()


def _deref(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """The definition a ``$ref`` points to, or the schema itself."""
    if "$ref" in schema:
        return defs[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _optional(schema: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """``anyOf [X, null]`` -> ``(X, True)``; anything else -> ``(schema, False)``."""
    options = schema.get("anyOf", [])
    kept = [s for s in options if s.get("type") != "null"]
    if len(options) == 2 and len(kept) == 1:
        return kept[0], True
    return schema, False


def _literal(text: str) -> str:
    """Text shown as is inside inline HTML in a table cell: no pipes (cell separators),
    no brackets (Markdown links) and no backslash escapes."""
    escaped = html.escape(text)
    for char in "|[]\\*_`":
        escaped = escaped.replace(char, f"&#{ord(char)};")
    return escaped


def _constraints(schema: dict[str, Any]) -> list[str]:
    words = []
    for key, symbol in (("exclusiveMinimum", ">"), ("minimum", ">="), ("exclusiveMaximum", "<"), ("maximum", "<=")):
        if key in schema:
            words.append(f"{symbol} {schema[key]}")
    if "minItems" in schema:
        words.append(f"at least {schema['minItems']} item" + "s" * (schema["minItems"] > 1))
    if schema.get("minLength") == 1:
        words.append("not empty")
    if "pattern" in schema:
        words.append(f"matching <code>{_literal(schema['pattern'])}</code>")
    return words


def _families(schema: dict[str, Any]) -> str:
    return "one of " + ", ".join(f'"{tag}"' for tag in schema["discriminator"]["mapping"])


def type_text(schema: dict[str, Any], defs: dict[str, Any]) -> str:
    """A short description of the values a key takes, e.g. ``integer > 0 or "auto"``."""
    if "discriminator" in schema:
        return "distribution table: " + _families(schema)
    if "$ref" in schema:
        return type_text(_deref(schema, defs), defs)
    if "anyOf" in schema:
        return " or ".join(type_text(s, defs) for s in schema["anyOf"] if s.get("type") != "null")
    if "const" in schema:
        text = json.dumps(schema["const"])
    elif "enum" in schema:
        text = "one of " + ", ".join(json.dumps(v) for v in schema["enum"])
    elif schema.get("type") == "array":
        text = "list of " + type_text(schema.get("items", {}), defs)
    elif schema.get("type") == "object" and isinstance(schema.get("additionalProperties"), dict):
        text = "table of " + type_text(schema["additionalProperties"], defs)
    elif schema.get("type") == "object":
        text = "table"
    else:
        text = _SCALARS.get(schema.get("type"), "any value")
    limits = _constraints(schema)
    return f"{text} ({', '.join(limits)})" if limits else text


def _default_text(field: dict[str, Any], required: bool) -> str:
    if required:
        return "required"
    default = field.get("default", _MISSING)
    if default is _MISSING or default is None:
        return "absent"
    return f"<code>{_literal(json.dumps(default))}</code>"


def _text(text: str) -> str:
    """A schema description as inline HTML: ````code```` spans (reST style) as code, the rest literal."""
    parts = text.replace("\n", " ").split("``")
    return "".join(f"<code>{_literal(part)}</code>" if i % 2 else _literal(part) for i, part in enumerate(parts))


def key_table(model: dict[str, Any], defs: dict[str, Any], skip: tuple[str, ...] = ()) -> list[str]:
    """Markdown table of a model's keys: key, type, default, description."""
    rows = ["| key | type | default | description |", "| --- | --- | --- | --- |"]
    required = set(model.get("required", []))
    for key, field in model.get("properties", {}).items():
        if key in skip:
            continue
        kind, description = type_text(field, defs), field.get("description", "")
        if "discriminator" in field:  # an input's distribution keys sit in its own table
            kind, description = _families(field), "the family; its keys (below) sit in the same table"
        rows.append(f"| `{key}` | {kind} | {_default_text(field, key in required)} | {_text(description)} |")
    return rows


def _section_form(name: str, field: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """How a top-level key is written in TOML and the schema of one of its tables."""
    inner, _ = _optional(field)
    if inner.get("type") == "array":
        return f"[[{name}]]", inner["items"]
    if inner.get("type") == "object" and isinstance(inner.get("additionalProperties"), dict):
        return f"[{name}.NAME]", inner["additionalProperties"]
    return f"[{name}]", inner


def _distributions(model: dict[str, Any], defs: dict[str, Any]) -> list[str]:
    """One subsection per distribution family of a discriminated ``distribution`` key."""
    lines: list[str] = []
    for field in model.get("properties", {}).values():
        if "discriminator" not in field:
            continue
        for tag, ref in field["discriminator"]["mapping"].items():
            family = _deref({"$ref": ref}, defs)
            lines += ["", f"#### `distribution = \"{tag}\"`", "", _text(family.get("description", "")), ""]
            lines += key_table(family, defs, skip=("distribution",))
    return lines


def reference_markdown() -> str:
    """The whole reference page (Markdown)."""
    schema = WorkflowFile.model_json_schema()
    defs = schema.get("$defs", {})
    required = set(schema.get("required", []))
    lines = [
        "# Workflow-file reference",
        "",
        "This page is generated from the schema `uqms.config.WorkflowFile` at every build of the",
        "documentation: it lists every section and key the validator accepts. Unknown keys are",
        "errors; every error names the file, the key and what was expected. Relative paths in",
        "a workflow file are relative to the file.",
        "",
        "| section | written as | required | description |",
        "| --- | --- | --- | --- |",
    ]
    sections = []
    for name, field in schema["properties"].items():
        form, table = _section_form(name, field)
        model = _deref(table, defs)
        description = field.get("description") or model.get("description", "")
        lines.append(f"| [`{name}`](#{name}) | `{form}` | {'yes' if name in required else 'no'} | {_text(description)} |")
        sections.append((name, form, model, description))
    for name, form, model, description in sections:
        lines += ["", f"## `{name}` {{#{name}}}", "", f"Written as `{form}`."]
        if description:
            lines += ["", _text(description)]
        if model.get("type") == "object" and "properties" in model:
            lines += [""] + key_table(model, defs)
            lines += _distributions(model, defs)
        else:
            lines += ["", f"Each entry is a {type_text(model, defs)}."]
    lines += [
        "",
        "## Example",
        "",
        f"The bundled `workflows/{EXAMPLE.name}`:",
        "",
        "```toml",
        EXAMPLE.read_text().rstrip(),
        "```",
        "",
    ]
    return "\n".join(lines)


def on_files(files, config):
    """mkdocs hook: add the generated reference page to the site."""
    from mkdocs.structure.files import File

    files.append(File.generated(config, PAGE, content=reference_markdown()))
    return files
