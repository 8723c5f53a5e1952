"""Find and mask secrets written in catalog text: URL passwords, secret parameters, key names.

The catalog is meant to be safe to commit: credentials are referenced by name (``credentials:``
entries naming environment variables, or ``${VAR}`` references) and never written in the file.
This module decides whether a piece of catalog text *writes* a secret, and masks secrets in
text that is about to be shown (errors, logs, ``repr``).

What counts as written in the file: the literal text, and every ``${VAR:-default}`` default
(a default is in the file whether or not ``VAR`` is set). A ``${VAR}`` reference itself is a
reference, not a secret: ``postgres://analyst:${PG_PASSWORD}@db/grid`` is accepted. Values that
come from the environment are not the file's; :func:`redact` masks them when they are shown.

Detected (case-insensitive, any scheme, leading spaces ignored):

* a password in URL userinfo, ``scheme://user:PASSWORD@host`` or ``scheme://:PASSWORD@host``,
  whatever the password holds (``/``, ``@``, ``?``, ``%2F``...);
* a secret parameter with a value, in a query string (``?pwd=...``, ``&access_token=...``),
  a connection string (``Password=...;``) or a libpq DSN (``password=... host=...``):
  :data:`SECRET_NAMES`, ``sig``/``signature``, AWS ``X-Amz-*`` signing parameters, and ``key=``
  when its value looks like a credential (16+ characters mixing letters and digits);
* AWS access key ids (``AKIA...``/``ASIA...``) anywhere;
* a mapping key that names a secret (:func:`is_secret_name`) holding a literal value.
"""

from __future__ import annotations

import re

#: Stands for a ``${VAR}`` reference while scanning (a private-use character, never in a file).
REFERENCE = "\ue000"
MASK = "***"

#: Parameter and key names whose value is a credential (compared lower case, ``-`` as ``_``).
SECRET_NAMES: frozenset[str] = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "pass",
        "passphrase",
        "sslpassword",
        "private_key_passphrase",
        "secret",
        "client_secret",
        "app_secret",
        "shared_secret",
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "auth_token",
        "bearer_token",
        "api_token",
        "session_token",
        "security_token",
        "sas_token",
        "api_key",
        "apikey",
        "private_key",
        "access_key",
        "secret_key",
        "access_key_id",
        "secret_access_key",
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "account_key",
        "accountkey",
        "shared_access_key",
        "sharedaccesskey",
        "sharedaccesssignature",
        "credential",
        "credentials",
        "authorization",
        "sig",
        "signature",
        "x_amz_signature",
        "x_amz_credential",
        "x_amz_security_token",
        "awsaccesskeyid",
    }
)
#: Suffixes that make any name a secret name (``pg_password``, ``github_token``, ``my_api_key``).
_SECRET_SUFFIX = re.compile(
    r"(^|_)(password|passwd|pwd|passphrase|secret|token|api_?key|private_?key|access_?key|"
    r"secret_?key|account_?key|credentials?)$"
)
_URL_START = re.compile(r"[a-z][a-z0-9+.\-]*://", re.IGNORECASE)
# a parameter: start of text or a separator, a name, '=', a value up to the next separator
_PARAM = re.compile(r"(?:^|(?<=[?&;\s#]))([A-Za-z][A-Za-z0-9_.\-]*)=([^&;\s#]*)")
_AWS_KEY_ID = re.compile(r"(?<![A-Z0-9])(AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])")
_KEY_LIKE = re.compile(r"^(?=.*[A-Za-z])(?=.*[0-9])[A-Za-z0-9_\-+=]{16,}$")


def normalise_name(name: str) -> str:
    """``"X-Amz-Signature"`` -> ``"x_amz_signature"``, ``"User Id"`` -> ``"user_id"``."""
    return re.sub(r"[\s\-.]+", "_", name.strip().lower())


def is_secret_name(name: str) -> bool:
    """True when a key or parameter named ``name`` holds a credential.

    >>> is_secret_name("Password"), is_secret_name("pg_password"), is_secret_name("warehouse")
    (True, True, False)
    """
    norm = normalise_name(name)
    return norm in SECRET_NAMES or bool(_SECRET_SUFFIX.search(norm))


def is_reference(value: str) -> bool:
    """True when ``value`` holds nothing but ``${VAR}`` references (or nothing at all)."""
    return value.replace(REFERENCE, "").strip() == ""


def closing_brace(text: str, start: int) -> int:
    """Index of the ``}`` closing the ``${`` at ``start``, or -1 when it is never closed."""
    depth, k = 0, start
    while k < len(text):
        if text.startswith("${", k):
            depth, k = depth + 1, k + 2
            continue
        if text[k] == "}":
            depth -= 1
            if depth == 0:
                return k
        k += 1
    return -1


def expand_for_scan(text: str, defaults: bool) -> str:
    """The file's own text behind ``text``: references as :data:`REFERENCE`, defaults expanded.

    With ``defaults=True`` every ``${VAR:-default}`` becomes its (expanded) default, as when
    ``VAR`` is unset; otherwise every reference becomes :data:`REFERENCE`, as when it is set.
    Malformed references are kept as literal text (the interpolation reports them later).
    """
    out: list[str] = []
    i = 0
    while (j := text.find("${", i)) >= 0:
        k = closing_brace(text, j)
        if k < 0:
            break
        out.append(text[i:j])
        _name, sep, default = text[j + 2 : k].partition(":-")
        out.append(expand_for_scan(default, defaults) if sep and defaults else REFERENCE)
        i = k + 1
    out.append(text[i:])
    return "".join(out)


def _url_passwords(text: str) -> list[tuple[int, int]]:
    """Spans of passwords in URL userinfo (``scheme://user:PASSWORD@``)."""
    spans: list[tuple[int, int]] = []
    for match in _URL_START.finditer(text):
        begin = match.end()
        stop = len(text)
        space = re.search(r"\s", text[begin:])
        if space:
            stop = begin + space.start()
        at = text.rfind("@", begin, stop)
        if at < 0:
            continue
        userinfo = text[begin:at]
        colon = userinfo.find(":")
        if colon < 0 or "/" in userinfo[:colon]:
            continue
        start = begin + colon + 1
        if at > start and not is_reference(text[start:at]):
            spans.append((start, at))
    return spans


def _param_secrets(text: str) -> list[tuple[str, int, int]]:
    """``(name, start, end)`` of secret parameter values (query, connection string, DSN)."""
    found: list[tuple[str, int, int]] = []
    for match in _PARAM.finditer(text):
        name, value = match.group(1), match.group(2)
        norm = normalise_name(name)
        secret = is_secret_name(norm) or norm.startswith("x_amz_")
        secret = secret or (norm in ("key", "code") and bool(_KEY_LIKE.match(value)))
        if secret and value and not is_reference(value):
            found.append((norm, match.start(2), match.end(2)))
    return found


def find_secret(text: str) -> str | None:
    """What kind of secret ``text`` (already expanded) writes, or None.

    The answer names the kind (``"a password in the URL"``, ``"the parameter 'pwd'"``), never
    the value.

    >>> find_secret("postgres://analyst:hunter2@db/grid")
    'a password in the URL'
    >>> find_secret("postgres://db/grid?sslmode=require") is None
    True
    """
    if _url_passwords(text):
        return "a password in the URL"
    params = _param_secrets(text)
    if params:
        return f"the secret parameter {params[0][0]!r} with a value"
    if _AWS_KEY_ID.search(text):
        return "an AWS access key id"
    return None


def scan_value(text: str) -> str | None:
    """:func:`find_secret` over what the file writes: its text with defaults, and references."""
    for defaults in (True, False):
        found = find_secret(expand_for_scan(text, defaults))
        if found:
            return found
    return None


def redact(text: str) -> str:
    """``text`` with every secret :func:`find_secret` knows replaced by ``***``.

    >>> redact("postgres://u:pa/ss@db/grid?sslpassword=x&sslmode=require")
    'postgres://u:***@db/grid?sslpassword=***&sslmode=require'
    """
    spans = list(_url_passwords(text))
    spans += [(s, e) for _n, s, e in _param_secrets(text)]
    spans += [m.span() for m in _AWS_KEY_ID.finditer(text)]
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out = text
    for start, end in reversed(merged):
        out = out[:start] + MASK + out[end:]
    return out
