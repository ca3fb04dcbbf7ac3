"""Checks JSON values against the JSON Schema subset that zod's toJSONSchema emits for the worker protocol.

protocol.schema.json is emitted from the zod schemas in src/worker/messages.ts; this module reads it, so the
TypeScript and Python sides share one definition of the fields, their limits and their defaults. A keyword
outside the subset fails when the schema is loaded, never silently at run time.
"""

from __future__ import annotations

import copy
import json
import math
import re
from typing import Any, Dict, List, Optional

KEYWORDS = {
    "$schema", "$comment", "description", "default", "type", "const", "enum", "minimum", "maximum",
    "exclusiveMinimum", "exclusiveMaximum", "minLength", "pattern", "properties", "required",
    "additionalProperties", "propertyNames", "items", "prefixItems", "minItems", "maxItems", "anyOf", "oneOf",
}
MAX_SAFE_INTEGER = 2**53 - 1


class SchemaError(ValueError):
    """A value does not match the schema; the message names the field and what is allowed."""


def check_keywords(schema: Any, where: str = "#") -> None:
    """Raises ValueError naming the first keyword this module does not implement."""
    if isinstance(schema, bool):
        return
    unknown = sorted(set(schema) - KEYWORDS)
    if unknown:
        raise ValueError(f"{where} uses JSON Schema keyword(s) {unknown} that worker/json_schema.py does not implement")
    for key in ("properties",):
        for name, sub in schema.get(key, {}).items():
            check_keywords(sub, f"{where}/{key}/{name}")
    for key in ("additionalProperties", "propertyNames", "items"):
        if key in schema:
            check_keywords(schema[key], f"{where}/{key}")
    for key in ("prefixItems", "anyOf", "oneOf"):
        for i, sub in enumerate(schema.get(key, [])):
            check_keywords(sub, f"{where}/{key}/{i}")


def _quote(v: Any) -> str:
    return f"'{v}'" if isinstance(v, str) else json.dumps(v)


def _either(options: List[str]) -> str:
    return options[0] if len(options) == 1 else f"{', '.join(options[:-1])} or {options[-1]}"


def _range(schema: Dict[str, Any]) -> str:
    lo, hi = schema.get("minimum"), schema.get("maximum")
    xlo, xhi = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    if hi == MAX_SAFE_INTEGER:
        hi = None
    if (lo is not None or xlo is not None) and (hi is not None or xhi is not None):
        left = f"[{_num(lo)}" if lo is not None else f"({_num(xlo)}"
        right = f"{_num(hi)}]" if hi is not None else f"{_num(xhi)})"
        return f" in {left}, {right}"
    bounds = [f">= {_num(lo)}" if lo is not None else "", f"> {_num(xlo)}" if xlo is not None else "",
              f"<= {_num(hi)}" if hi is not None else "", f"< {_num(xhi)}" if xhi is not None else ""]
    return "".join(f" {b}" for b in bounds if b)


def _num(v: Any) -> str:
    return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)


def allowed(schema: Any) -> str:
    """What the schema allows, in words ("an integer >= 1", "'bf16' or 'fp32'"), with its description."""
    if schema is True:
        return "any value"
    text = _kind(schema)
    return text + (f" ({schema['description']})" if "description" in schema else "")


def _kind(schema: Dict[str, Any]) -> str:
    if "const" in schema:
        return _quote(schema["const"])
    if "enum" in schema:
        return _either([_quote(v) for v in schema["enum"]])
    if "anyOf" in schema or "oneOf" in schema:
        return _either(list(dict.fromkeys(allowed(s) for s in schema.get("anyOf", schema.get("oneOf")))))
    kind = schema.get("type")
    if isinstance(kind, list):
        return _either([_kind({**schema, "type": k}) for k in kind])
    if kind == "integer":
        text = "an integer" + _range(schema)
    elif kind == "number":
        text = "a number" + _range(schema)
    elif kind == "string":
        text = "a non-empty string" if schema.get("minLength", 0) >= 1 else "a string"
        if "pattern" in schema:
            text += f" matching {schema['pattern']}"
    elif kind == "boolean":
        text = "true or false"
    elif kind == "null":
        text = "null"
    elif kind == "array":
        items = schema.get("prefixItems")
        text = f"a list of {len(items)} items, {', '.join(allowed(s) for s in items)}" if items else f"a list of {allowed(schema.get('items', True))}"
    else:
        text = "an object"
    return text


def branches(schema: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The object alternatives of an anyOf/oneOf, nested unions flattened."""
    out: List[Dict[str, Any]] = []
    for s in schema.get("anyOf", schema.get("oneOf", [])):
        out.extend(branches(s) if ("anyOf" in s or "oneOf" in s) else [s])
    return out


def _tags(branch: Dict[str, Any], key: str) -> Optional[List[Any]]:
    prop = branch.get("properties", {}).get(key)
    if prop is None:
        return None
    return [prop["const"]] if "const" in prop else prop.get("enum")


def _discriminate(branches: List[Dict[str, Any]], value: Dict[str, Any], where: str) -> Optional[Dict[str, Any]]:
    """The one branch whose constant fields (command, method, type) match, else None if there is no such key."""
    keys = [k for k in branches[0].get("properties", {}) if all(_tags(b, k) is not None for b in branches)]
    for key in keys:
        tags = [_tags(b, key) or [] for b in branches]
        if len({t for ts in tags for t in ts}) < 2:
            continue  # every branch shares this constant: it does not tell them apart
        matching = [b for b, ts in zip(branches, tags) if value.get(key) in ts]
        if not matching:
            options = [t for ts in tags for t in ts]
            shown = json.dumps(value[key]) if key in value else "missing"
            raise SchemaError(f"{where}.{key} is {shown}; allowed: {', '.join(_quote(t) for t in dict.fromkeys(options))}")
        return matching[0] if len(matching) == 1 else _discriminate(matching, value, where)
    return None


def _types(schema: Dict[str, Any]) -> List[str]:
    kind = schema["type"]
    return kind if isinstance(kind, list) else [kind]


def _is_type(value: Any, kind: str) -> bool:
    if kind == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, float) and value.is_integer())
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    return isinstance(value, {"string": str, "boolean": bool, "null": type(None), "array": list, "object": dict}[kind])


def _fails(schema: Dict[str, Any], value: Any) -> bool:
    """True when a scalar value breaks the schema's type, constant or limits."""
    if "type" in schema and not any(_is_type(value, kind) for kind in _types(schema)):
        return True
    if "const" in schema and value != schema["const"]:
        return True
    if "enum" in schema and value not in schema["enum"]:
        return True
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if ("minimum" in schema and value < schema["minimum"]) or ("maximum" in schema and value > schema["maximum"]):
            return True
        if ("exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]) or ("exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]):
            return True
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0) or ("pattern" in schema and re.search(schema["pattern"], value) is None):
            return True
    return False


def validate(schema: Any, value: Any, where: str) -> Any:
    """Returns the value with the schema's defaults filled in (integers as int); raises SchemaError naming the field."""
    if schema is True:
        return value
    if schema is False:
        raise SchemaError(f"{where} is not allowed")
    if "anyOf" in schema or "oneOf" in schema:
        options = branches(schema)
        if isinstance(value, dict):
            chosen = _discriminate(options, value, where)
            if chosen is not None:
                return validate(chosen, value, where)
        for branch in options:
            try:
                return validate(branch, value, where)
            except SchemaError:
                continue
        raise SchemaError(f"{where} is {json.dumps(value)[:200]}; it must be {allowed(schema)}")
    if _fails(schema, value):
        raise SchemaError(f"{where} is {json.dumps(value)[:200]}; it must be {allowed(schema)}")
    if schema.get("type") == "integer":
        return int(value)
    if isinstance(value, list):
        return _validate_list(schema, value, where)
    if isinstance(value, dict):
        return _validate_object(schema, value, where)
    return value


def _validate_list(schema: Dict[str, Any], value: List[Any], where: str) -> List[Any]:
    if len(value) < schema.get("minItems", 0) or len(value) > schema.get("maxItems", math.inf):
        raise SchemaError(f"{where} is {json.dumps(value)[:200]}; it must be {allowed(schema)}")
    prefix = schema.get("prefixItems", [])
    rest = schema.get("items", True)
    return [validate(prefix[i] if i < len(prefix) else rest, v, f"{where}[{i}]") for i, v in enumerate(value)]


def _validate_object(schema: Dict[str, Any], value: Dict[str, Any], where: str) -> Dict[str, Any]:
    props: Dict[str, Any] = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    if extra is False:
        unknown = sorted(set(value) - set(props))
        if unknown:
            raise SchemaError(f"{where} has unknown field(s) {unknown}; allowed: {sorted(props)}")
    for key in schema.get("required", []):
        if key not in value:
            raise SchemaError(f"{where}.{key} is missing; it must be {allowed(props.get(key, True))}")
    out: Dict[str, Any] = {}
    for key, v in value.items():
        if "propertyNames" in schema:
            names = schema["propertyNames"]
            if _fails(names, key):
                raise SchemaError(f"{where}.{key} is not an allowed key; a key must be {allowed(names)}")
        out[key] = validate(props[key] if key in props else extra, v, f"{where}.{key}")
    for key, sub in props.items():
        if key not in out and isinstance(sub, dict) and "default" in sub:
            out[key] = copy.deepcopy(sub["default"])
    return out


def load(path: str) -> Dict[str, Any]:
    """Reads a file of named schemas ({"<name>": schema}) and checks that they use only the keywords implemented here."""
    with open(path, "r", encoding="utf-8") as f:
        named = json.load(f)
    schemas = {name: schema for name, schema in named.items() if not name.startswith("$")}
    for name, schema in schemas.items():
        check_keywords(schema, f"{path}#{name}")
    return schemas
