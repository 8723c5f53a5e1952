"""Each malformed catalog file gets its own clear error naming the entry and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.catalog import load_catalog_spec
from workbench.core.errors import (
    CatalogError,
    CatalogValidationError,
    InterpolationError,
    SecretInCatalogError,
)

HERE = Path(__file__).parent
CASES = {
    # file: (error class, fragments the message must contain)
    "unknown_key": (
        CatalogValidationError,
        ["entry 'bronze.raw_load'", "key 'colums'", "unknown key"],
    ),
    "wrong_type": (
        CatalogValidationError,
        ["entry 'bronze.raw_load'", "key 'resolution'", "valid string", "found int 5"],
    ),
    "wrong_column_type": (
        CatalogValidationError,
        ["key 'columns.load_mw.type'", "'float64'", "found str 'flaot64'"],
    ),
    "missing_field": (
        CatalogValidationError,
        ["entry 'bronze.raw_load'", "key 'owner'", "missing required key"],
    ),
    "duplicate_name": (CatalogValidationError, ["duplicate dataset names ['bronze.raw_load']"]),
    "bad_interpolation_unset": (
        InterpolationError,
        ["entry 'bronze.raw_load', key 'location'", "'GRIDMIND_UNSET_VAR_XYZ' is not set"],
    ),
    "bad_interpolation_syntax": (
        InterpolationError,
        ["warehouse 'default', key 'url'", "malformed interpolation", "${NAME:-default}"],
    ),
    "inline_secret_key": (
        SecretInCatalogError,
        ["warehouse 'default', key 'password'", "secret is written in the catalog", "credentials"],
    ),
    "inline_secret_url": (
        SecretInCatalogError,
        ["warehouse 'default', key 'url'", "embeds a password"],
    ),
    "duplicate_yaml_key": (CatalogError, ["duplicate key 'kind'", "line 9"]),
    "key_not_a_column": (CatalogValidationError, ["entry 'bronze.raw_load'", "['node_id']"]),
    "layer_mismatch": (CatalogValidationError, ["prefix 'bronze' must equal the layer"]),
    "bad_timezone": (
        CatalogValidationError,
        ["key 'timezone'", "IANA timezone", "'America/Houston'"],
    ),
    "unknown_credentials": (CatalogValidationError, ["references credentials 'prod'"]),
    "not_a_mapping": (CatalogError, ["expected a mapping", "found list"]),
}


def test_every_fixture_has_a_case():
    assert {p.stem for p in (HERE / "malformed").glob("*.yaml")} == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_malformed_catalog_error(name: str):
    error, fragments = CASES[name]
    with pytest.raises(error) as info:
        load_catalog_spec(HERE / "malformed" / f"{name}.yaml")
    message = str(info.value)
    assert f"malformed/{name}.yaml" in message  # the file is named
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in:\n{message}"


def test_the_valid_base_of_the_fixtures_loads():
    spec = load_catalog_spec(HERE / "files" / "valid_minimal.yaml")
    assert [d.name for d in spec.datasets] == ["bronze.raw_load"]


def test_each_error_is_a_workbench_error():
    from workbench import WorkbenchError

    for error, _ in CASES.values():
        assert issubclass(error, WorkbenchError)
