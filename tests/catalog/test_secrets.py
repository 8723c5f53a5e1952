"""A corpus of secret spellings: each is refused or accepted, and no refused value is echoed.

Every case puts one value into a copy of the minimal valid catalog (a warehouse URL, a dataset
location, a key, a credentials entry) and loads it. Refused cases must raise
:class:`SecretInCatalogError` whose message holds ``***`` and none of the secret's characters
runs; accepted cases must load.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from workbench.catalog import parse_catalog_spec
from workbench.catalog.secrets import redact
from workbench.core.errors import SecretInCatalogError

HERE = Path(__file__).parent
BASE = yaml.safe_load((HERE / "files" / "valid_minimal.yaml").read_text())
ENV = {"WORKBENCH_HOME": "/tmp/wb", "PG_PASSWORD": "s3cr3t-from-env", "PG_USER": "analyst"}

# (id, where, value, secret or None): `secret` is the literal that must never be echoed;
# None means the spelling is safe and must load.
URL = "url"
REFUSED: list[tuple[str, str, Any, str]] = [
    ("url_password", URL, "postgres://analyst:hunter2@db/grid", "hunter2"),
    ("url_default", URL, "${PG_URL:-postgres://analyst:hunter2@db/grid}", "hunter2"),
    ("url_nested_default", URL, "${A:-${B:-postgres://u:hunter2@db/grid}}", "hunter2"),
    ("url_no_user", URL, "postgres://:hunter2@db/grid", "hunter2"),
    ("url_slash", URL, "postgres://analyst:hun/ter2@db/grid", "hun/ter2"),
    ("url_at", URL, "postgres://analyst:hun@ter2@db/grid", "hun@ter2"),
    ("url_pct2f", URL, "postgres://analyst:hun%2Fter2@db/grid", "hun%2Fter2"),
    ("url_question", URL, "postgres://analyst:hun?ter2@db/grid", "hun?ter2"),
    ("url_leading_spaces", URL, "   postgres://analyst:hunter2@db/grid", "hunter2"),
    ("url_upper_scheme", URL, "POSTGRESQL+PSYCOPG://analyst:hunter2@db/grid", "hunter2"),
    ("url_mysql", URL, "mysql://root:toor-pw@db:3306/grid", "toor-pw"),
    ("url_snowflake", URL, "snowflake://svc:Sn0wPass@acct/GRID?warehouse=W", "Sn0wPass"),
    ("url_s3_userinfo", URL, "s3://AKID:wJalrXUtnFEMI@bucket/lake", "wJalrXUtnFEMI"),
    ("url_user_ref_literal_pw", URL, "postgres://${PG_USER}:hunter2@db/grid", "hunter2"),
    ("url_pw_ref_plus_literal", URL, "postgres://u:${PG_PASSWORD}x9z@db/grid", "x9z"),
    ("url_user_default", URL, "postgres://${U:-analyst}:hunter2@db/grid", "hunter2"),
    ("q_password", URL, "postgres://db/grid?password=hunter2", "hunter2"),
    ("q_pwd", URL, "postgres://db/grid?user=a&pwd=hunter2", "hunter2"),
    ("q_access_token", URL, "https://api.example/data?access_token=tok123abc", "tok123abc"),
    ("q_sslpassword", URL, "postgres://db/grid?sslmode=verify-full&sslpassword=k3yp4ss", "k3yp4ss"),
    ("q_token", URL, "trino://db/hive?token=eyJhbGciOi", "eyJhbGciOi"),
    ("q_secret", URL, "https://x.example/?secret=sh-hh", "sh-hh"),
    ("q_api_key", URL, "https://x.example/?api_key=abc-123", "abc-123"),
    ("q_apikey_upper", URL, "https://x.example/?ApiKey=abc-999", "abc-999"),
    ("q_key_credential", URL, "https://m.example/?key=AIzaSyD4x9Q2LmN0pQ", "AIzaSyD4x9Q2LmN0pQ"),
    ("q_sas_sig", URL, "abfs://c@a.dfs.core.windows.net/?sv=2022&sig=Zm9vYm%3D", "Zm9vYm%3D"),
    ("q_amz_signature", URL, "https://b.s3.amazonaws.com/k?X-Amz-Signature=dead42", "dead42"),
    ("q_default", URL, "${U:-postgres://db/grid?password=hunter2}", "hunter2"),
    ("aws_key_id", "location", "s3://bucket/AKIAIOSFODNN7EXAMPLE/lake", "AKIAIOSFODNN7EXAMPLE"),
    ("odbc_conn_string", "location", "Driver=pg;Server=db;Uid=a;Pwd=hunter2;", "hunter2"),
    ("libpq_dsn", "location", "host=db user=a password=hunter2 dbname=grid", "hunter2"),
    ("azure_account_key", "location", "AccountName=a;AccountKey=bXlrZXk9PQ==", "bXlrZXk9PQ=="),
    ("key_password", "key:password", "hunter2", "hunter2"),
    ("key_password_default", "key:password", "${PG_PASSWORD:-hunter2}", "hunter2"),
    ("key_passwd_int", "key:passwd", 12345678, "12345678"),
    ("key_token", "key:token", "ghp_abcdef123456", "ghp_abcdef123456"),
    ("key_access_token", "key:access_token", "ya29.a0Af", "ya29.a0Af"),
    ("key_api_key", "key:api_key", "k-42-k", "k-42-k"),
    ("key_apikey", "key:apiKey", "k-43-k", "k-43-k"),
    ("key_client_secret", "key:client_secret", "cs-77", "cs-77"),
    ("key_private_key", "key:private_key", "-----BEGIN KEY-----", "BEGIN KEY"),
    ("key_sas_token", "key:sas_token", "sv=2022&sig=abc", "sig=abc"),
    ("key_credentials", "key:credentials", "analyst/hunter2", "hunter2"),
    ("key_suffix", "key:pg_password", "hunter2", "hunter2"),
    ("key_dashed", "key:Secret-Key", "s-k-1", "s-k-1"),
    ("env_field_holds_secret", "env:password", "hunter2", "hunter2"),
    ("env_field_holds_url", "env:password", "pg://a:b@c", "pg://a:b@c"),
]
ACCEPTED: list[tuple[str, str, Any]] = [
    ("duckdb_default", URL, "${WORKBENCH_WAREHOUSE:-duckdb:///${WORKBENCH_HOME}/wh.duckdb}"),
    ("passwordless_url", URL, "postgres://analyst@db/grid"),
    ("no_userinfo", URL, "postgres://db:5432/grid?sslmode=require"),
    ("password_reference", URL, "postgres://analyst:${PG_PASSWORD}@db/grid"),
    ("both_references", URL, "postgres://${PG_USER}:${PG_PASSWORD}@db/grid"),
    ("url_reference", URL, "${PG_URL:-postgres://analyst@db/grid}"),
    ("snowflake_params", URL, "snowflake://gridmind/GRIDMIND?warehouse=ANALYTICS"),
    ("param_reference", URL, "postgres://db/grid?password=${PG_PASSWORD}"),
    ("empty_param", URL, "postgres://db/grid?password=&sslmode=require"),
    ("key_short_value", URL, "s3://bucket/lake?key=region"),
    ("path_with_at", "location", "s3://bucket/lake/v@2/load"),
    ("key_password_reference", "key:password", "${PG_PASSWORD}"),
    ("key_password_empty_default", "key:password", "${PG_PASSWORD:-}"),
    ("key_token_bool", "key:token", False),
    ("env_reference", "env:password", "PG_PASSWORD"),
]


def _doc(where: str, value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(BASE)
    if where == URL:
        doc["warehouses"]["default"]["url"] = value
    elif where == "location":
        doc["datasets"][0]["location"] = value
    elif where.startswith("key:"):
        doc["warehouses"]["default"][where[4:]] = value
    elif where.startswith("env:"):
        doc["credentials"] = {"pg": {"env": {"user": "PG_USER", where[4:]: value}}}
        doc["warehouses"]["default"]["credentials"] = "pg"
    return doc


@pytest.mark.parametrize(("where", "value", "secret"), [c[1:] for c in REFUSED],
                         ids=[c[0] for c in REFUSED])  # fmt: skip
def test_secret_spelling_is_refused_and_never_echoed(where: str, value: Any, secret: str):
    with pytest.raises(SecretInCatalogError) as info:
        parse_catalog_spec(_doc(where, value), "catalog.yaml", ENV)
    message = str(info.value)
    assert "***" in message
    assert secret not in message, message
    assert "catalog.yaml" in message


@pytest.mark.parametrize(("where", "value"), [c[1:] for c in ACCEPTED],
                         ids=[c[0] for c in ACCEPTED])  # fmt: skip
def test_safe_spelling_is_accepted(where: str, value: Any):
    doc = _doc(where, value)
    if where.startswith("key:"):  # the schema has no such key: only the secret scan is tested
        from workbench.catalog.loader import _check_secrets

        _check_secrets(doc, "catalog.yaml")
        return
    spec = parse_catalog_spec(doc, "catalog.yaml", ENV)
    assert spec.warehouses["default"].url


def test_corpus_size():
    print(f"secret spellings: {len(REFUSED)} refused, {len(ACCEPTED)} safe ones accepted")
    assert len(REFUSED) + len(ACCEPTED) >= 30


def test_an_environment_value_is_not_the_file_s_secret():
    """A URL with a password set in the environment loads; the file only references it."""
    env = {**ENV, "PG_URL": "postgres://analyst:from-env@db/grid"}
    spec = parse_catalog_spec(_doc(URL, "${PG_URL}"), "catalog.yaml", env)
    assert spec.warehouses["default"].url == env["PG_URL"]


def test_interpolation_error_does_not_echo_a_password():
    from workbench.core.errors import InterpolationError

    value = "postgres://analyst:${PG_PASSWORD}@db/${BROKEN"
    doc = _doc(URL, value)
    with pytest.raises(InterpolationError) as info:
        parse_catalog_spec(doc, "catalog.yaml", {**ENV, "PG_PASSWORD": "x"})
    assert "malformed interpolation" in str(info.value)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgres://u:hunter2@db/grid", "postgres://u:***@db/grid"),
        ("postgres://u:hun/ter2@db/grid", "postgres://u:***@db/grid"),
        ("postgres://u:hun@ter2@db/grid", "postgres://u:***@db/grid"),
        ("postgres://:p%2Fw@db/grid", "postgres://:***@db/grid"),
        ("postgres://db/grid?sslpassword=k&sslmode=require", "postgres://db/grid?sslpassword=***&sslmode=require"),
        ("duckdb:///tmp/wh.duckdb", "duckdb:///tmp/wh.duckdb"),
    ],
)  # fmt: skip
def test_redact_masks_any_password(url: str, shown: str):
    assert redact(url) == shown


def test_warehouse_repr_masks_a_password_with_a_slash():
    from workbench.io.warehouse import Warehouse

    text = repr(Warehouse("postgres://u:se/cret@localhost/db"))
    assert "cret" not in text
    assert "***" in text
