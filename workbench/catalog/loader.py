"""Read ``data_catalog.yaml``: YAML → secret scan (defaults expanded) → interpolation →
duplicate names → schema validation, each failure a clear error naming the entry and key."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from workbench.catalog.schema import CatalogSpec
from workbench.catalog.secrets import (
    MASK,
    closing_brace,
    expand_for_scan,
    is_reference,
    is_secret_name,
    redact,
    scan_value,
)
from workbench.core.errors import (
    CatalogError,
    CatalogValidationError,
    InterpolationError,
    SecretInCatalogError,
)

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses duplicate mapping keys instead of keeping the last."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node)
        if key in mapping:
            line = key_node.start_mark.line + 1
            msg = f"duplicate key {key!r} at line {line}: each key may appear once per mapping"
            raise CatalogError(msg)
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _where(raw: Mapping[str, Any], loc: tuple[Any, ...]) -> str:
    """Render a location in the raw document: ``entry 'bronze.x', key 'columns.v.type'``."""
    if len(loc) >= 2 and loc[0] == "datasets" and isinstance(loc[1], int):
        datasets = raw.get("datasets") or []
        entry = datasets[loc[1]] if loc[1] < len(datasets) else None
        label = entry.get("name") if isinstance(entry, Mapping) else None
        label = repr(label) if isinstance(label, str) else f"#{loc[1] + 1}"
        rest = ".".join(str(p) for p in loc[2:])
        return f"entry {label}" + (f", key {rest!r}" if rest else "")
    if len(loc) >= 2 and loc[0] in ("warehouses", "credentials"):
        rest = ".".join(str(p) for p in loc[2:])
        return f"{loc[0][:-1]} {loc[1]!r}" + (f", key {rest!r}" if rest else "")
    return "key " + repr(".".join(str(p) for p in loc)) if loc else "catalog"


def _walk(node: Any, loc: tuple[Any, ...] = ()):
    """Yield ``(loc, key, value)`` for every mapping item in a YAML tree."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            yield loc, key, value
            yield from _walk(value, (*loc, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, (*loc, i))


def _leaves(node: Any, loc: tuple[Any, ...] = ()):
    """Yield ``(loc, value)`` for every scalar of a YAML tree (mapping values, list items)."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            yield from _leaves(value, (*loc, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _leaves(value, (*loc, i))
    else:
        yield loc, node


def _writes_literal(value: Any) -> bool:
    """True when a secret-named key's value is written in the file (not only ``${VAR}``)."""
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, (int, float)):
        return True
    if not isinstance(value, str):
        return False
    return not all(is_reference(expand_for_scan(value, d)) for d in (True, False))


def _check_secrets(raw: Mapping[str, Any], source: str) -> None:
    """Refuse any secret the file writes; the message names where, never the value.

    Runs on what the file writes after interpolation: the literal text with every ``${VAR}``
    reference standing for itself and every ``${VAR:-default}`` default expanded (see
    :mod:`workbench.catalog.secrets`).
    """
    todo = (
        "; expected it referenced by name instead: declare it under 'credentials:' as an "
        "environment variable (credentials: {NAME: {env: {password: MY_PASSWORD_VAR}}}) or "
        "write ${VAR}, and keep the value out of the file"
    )
    for loc, value in _leaves(raw):
        if not loc:
            continue
        where = _where(raw, loc)
        key = loc[-1]
        in_env = len(loc) == 4 and loc[0] == "credentials" and loc[2] == "env"
        names_credentials = len(loc) == 3 and loc[0] == "warehouses" and key == "credentials"
        if in_env:
            is_name = isinstance(value, str) and _ENV_NAME.match(value)
            if isinstance(key, str) and is_secret_name(key) and not is_name:
                msg = (
                    f"{source}: {where}: expected the name of an environment variable in "
                    f"upper case (e.g. PG_PASSWORD); found a value that is not one (shown "
                    f"as {MASK}). If it is the secret itself, remove it from the file"
                )
                raise SecretInCatalogError(msg)
            continue
        if names_credentials and isinstance(value, str) and not _IDENT.match(value):
            msg = (
                f"{source}: {where}: expected the name of a 'credentials:' entry; found a value "
                f"that is not a name (shown as {MASK}), perhaps the secret itself{todo}"
            )
            raise SecretInCatalogError(msg)
        if (
            isinstance(key, str)
            and is_secret_name(key)
            and not names_credentials
            and _writes_literal(value)
        ):
            msg = f"{source}: {where}: a secret is written in the catalog (value {MASK}){todo}"
            raise SecretInCatalogError(msg)
        if isinstance(value, str):
            found = scan_value(value)
            if found:
                msg = f"{source}: {where}: the value embeds {found} (shown as {MASK}){todo}"
                raise SecretInCatalogError(msg)


def interpolate(text: str, env: Mapping[str, str], where: str = "value") -> str:
    """Resolve ``${VAR}`` and ``${VAR:-default}``; defaults may themselves hold ``${...}``.

    >>> interpolate("${A:-x}/${B}", {"B": "y"})
    'x/y'
    """
    out: list[str] = []
    i = 0
    while (j := text.find("${", i)) >= 0:
        out.append(text[i:j])
        k = closing_brace(text, j)
        body = text[j + 2 : k] if k >= 0 else text[j + 2 :]
        name, sep, default = body.partition(":-")
        if k < 0 or not _IDENT.match(name):
            msg = (
                f"{where}: malformed interpolation "
                f"{redact(text[j:] if k < 0 else text[j : k + 1])!r} "
                f"in {redact(text)!r}; expected ${{NAME}} or ${{NAME:-default}} with NAME made of "
                f"letters, digits and '_'"
            )
            raise InterpolationError(msg)
        if env.get(name):
            out.append(env[name])
        elif sep:
            out.append(interpolate(default, env, where))
        else:
            msg = (
                f"{where}: variable {name!r} is not set and has no default; set it in the "
                f"environment or write ${{{name}:-default}}"
            )
            raise InterpolationError(msg)
        i = k + 1
    out.append(text[i:])
    return "".join(out)


def _interpolate_tree(node: Any, env: Mapping[str, str], raw: Mapping[str, Any], loc=()) -> Any:
    if isinstance(node, Mapping):
        return {k: _interpolate_tree(v, env, raw, (*loc, k)) for k, v in node.items()}
    if isinstance(node, list):
        return [_interpolate_tree(v, env, raw, (*loc, i)) for i, v in enumerate(node)]
    if isinstance(node, str) and "$" in node:
        return interpolate(node, env, _where(raw, loc))
    return node


def _message(err: dict[str, Any]) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return "unknown key (is this a typo?)"
    if kind == "missing":
        return "missing required key"
    text = err["msg"].removeprefix("Value error, ")
    text = text[0].lower() + text[1:] if text else text
    if kind.endswith("_type") or kind in ("literal_error", "too_short", "string_too_short"):
        found = err.get("input")
        shown = redact(found) if isinstance(found, str) else found
        return f"{text}; found {type(found).__name__} {shown!r}"
    return text


def parse_catalog_spec(
    raw: Any, source: str = "<catalog>", env: Mapping[str, str] | None = None
) -> CatalogSpec:
    """Validate an already-loaded YAML document into a :class:`CatalogSpec`."""
    if not isinstance(raw, Mapping):
        msg = (
            f"{source}: expected a mapping with 'version', 'warehouses' and 'datasets'; "
            f"found {type(raw).__name__}"
        )
        raise CatalogError(msg)
    _check_secrets(raw, source)
    if env is None:
        from workbench.core.config import HOME_ENV, workbench_home

        env = {**os.environ, HOME_ENV: str(workbench_home())}
    try:
        doc = _interpolate_tree(raw, env, raw)
    except InterpolationError as exc:
        raise InterpolationError(f"{source}: {exc}") from None
    names = [d.get("name") for d in doc.get("datasets") or [] if isinstance(d, Mapping)]
    dupes = sorted({n for n in names if isinstance(n, str) and names.count(n) > 1})
    if dupes:
        msg = f"{source}: duplicate dataset names {dupes}: each name must appear once"
        raise CatalogValidationError(source, [msg.split(": ", 1)[1]])
    try:
        return CatalogSpec.model_validate(doc)
    except ValidationError as exc:
        problems = [f"{_where(raw, tuple(e['loc']))}: {_message(e)}" for e in exc.errors()]
        raise CatalogValidationError(source, problems) from None


#: parsed catalog YAML by the SHA-256 of its text (the pure-Python parse of the project's
#: catalog takes ~0.3-1 s, and a job run opens the catalog several times)
_PARSED: dict[str, Any] = {}
#: validated specs by (text, path, environment, home): a valid text validates the same again
_SPECS: dict[tuple[Any, ...], CatalogSpec] = {}


def _parsed_yaml(text: str) -> Any:
    """``text`` parsed as YAML (duplicate keys refused); a copy of the memo for a text seen."""
    import copy
    import hashlib

    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if digest not in _PARSED:
        if len(_PARSED) >= 8:
            _PARSED.clear()
        _PARSED[digest] = yaml.load(text, Loader=_UniqueKeyLoader)
    return copy.deepcopy(_PARSED[digest])


def load_catalog_spec(path: str | Path, env: Mapping[str, str] | None = None) -> CatalogSpec:
    """Read and validate a catalog file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        msg = f"cannot read the data catalog at {path}: {exc.strerror or exc}"
        raise CatalogError(msg) from exc
    except UnicodeDecodeError as exc:
        msg = (
            f"expected the data catalog at {path} to be UTF-8 YAML text; found undecodable "
            f"byte {exc.object[exc.start : exc.start + 1]!r} at offset {exc.start} (a binary file?)"
        )
        raise CatalogError(msg) from None
    memo = None
    if env is None:  # the same text, path and environment validate to the same (frozen) spec
        from workbench.core.config import workbench_home

        memo = (text, str(path), tuple(sorted(os.environ.items())), str(workbench_home()))
        if memo in _SPECS:
            return _SPECS[memo]
    try:
        raw = _parsed_yaml(text)
    except CatalogError as exc:
        raise CatalogError(f"{path}: {exc}") from None
    except yaml.YAMLError as exc:
        msg = f"{path}: expected valid YAML; {redact(str(exc))}"
        raise CatalogError(msg) from exc
    spec = parse_catalog_spec(raw, str(path), env)
    if memo is not None:
        if len(_SPECS) >= 8:
            _SPECS.clear()
        _SPECS[memo] = spec
    return spec
