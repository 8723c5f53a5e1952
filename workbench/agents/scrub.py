"""Secrets never leave a tool: warehouse passwords, tokens and keys are masked in every output.

:class:`Scrubber` masks what :func:`workbench.catalog.secrets.redact` recognises (URL passwords,
``password=``/``token=`` parameters, AWS key ids) and, besides, the exact values of the secrets
this process knows: the passwords of the warehouse URLs, the catalog's credential variables,
every environment variable whose name says it holds a secret (``*_PASSWORD``, ``*_TOKEN``,
``*_API_KEY``...) and the HTTP server's bearer token.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote, urlparse

from workbench.catalog.secrets import MASK, is_secret_name, redact

#: Text without any of these cannot match a pattern of :func:`redact`.
_MARKERS = ("://", "=", "AKIA", "ASIA")
#: Secret values shorter than this are not searched for (they would mask ordinary words).
MIN_SECRET_LENGTH = 4


def url_password(url: str) -> str | None:
    """The password of a URL's userinfo, decoded (``None`` without one)."""
    try:
        password = urlparse(url).password
    except ValueError:
        return None
    return unquote(password) if password else None


class Scrubber:
    """Masks known secret values and secret-looking text.

    Parameters
    ----------
    secrets : iterable of str
        Exact values to mask wherever they appear (passwords, tokens).
    environ : bool
        Also mask the values of environment variables named like secrets.
    """

    def __init__(self, secrets: Iterable[str | None] = (), *, environ: bool = True) -> None:
        values = {s for s in secrets if s}
        if environ:
            values |= {v for k, v in os.environ.items() if v and is_secret_name(k)}
        self._values = sorted((v for v in values if len(v) >= MIN_SECRET_LENGTH), key=len)[::-1]

    def add(self, secret: str | None) -> None:
        """Mask ``secret`` from now on."""
        if secret and len(secret) >= MIN_SECRET_LENGTH and secret not in self._values:
            self._values = sorted([*self._values, secret], key=len)[::-1]

    def text(self, text: str) -> str:
        """``text`` with every known secret and secret-looking parameter masked.

        The pattern scan (:func:`~workbench.catalog.secrets.redact`) runs only on text that can
        hold a pattern (a URL, a ``name=value``, an AWS key id); its cost grows with the square
        of the length, so callers clip long text first (see :func:`clip_then_scrub`).
        """
        for value in self._values:
            if value in text:
                text = text.replace(value, MASK)
        if any(marker in text for marker in _MARKERS):
            text = redact(text)
        return text

    def clipped(self, text: str, limit: int) -> str:
        """``text`` cut to ``limit`` characters (marked ``…[clipped]``), then scrubbed.

        A margin is scrubbed beyond the cut, so a secret straddling it is masked, not halved.
        """
        if len(text) <= limit:
            return self.text(text)
        return self.text(text[: limit + 256])[:limit] + "…[clipped]"

    def value(self, value: Any) -> Any:
        """Strings masked inside any JSON-like value (dicts, lists, scalars)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.value(v) for v in value]
        return value
