"""Kore.ai `auth` header: a configured JWT, or HS256 JWTs minted from the app's credentials.

Kore's public APIs take a JWT in the `auth` header, sent bare (docs/vendors/kore.md,
"Where the vendor docs are silent"). The app's JWT is HS256-signed with its client
secret and carries the client id in the `appId` claim. A minted token lives `lifetime`
seconds and is replaced once less than `renew_before` seconds of it are left, so a long
run never sends an expired token (retries included: the header is set on every attempt).

Messages name the form in use (`description`), never a token or a secret.
"""

from __future__ import annotations

import threading
import time
import typing as t
import warnings
from collections.abc import Callable

import jwt
import requests
from jwt.warnings import InsecureKeyLengthWarning

from tap_convai.redaction import register_secret

HEADER = "auth"
DEFAULT_LIFETIME = 3600.0  # seconds a minted JWT is valid
DEFAULT_RENEW_BEFORE = 300.0  # renew when less than this is left


class KoreAuth(requests.auth.AuthBase):
    """Sets the `auth` header of each request (every attempt) to a valid JWT."""

    #: the auth form, for messages (never the value)
    description: str = ""

    def token(self) -> str:
        raise NotImplementedError

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers[HEADER] = self.token()
        return request


class ConfiguredJWT(KoreAuth):
    """`kore.jwt` as given (the user renews it)."""

    description = "the configured jwt"

    def __init__(self, value: str) -> None:
        self._value = value.strip()

    def token(self) -> str:
        return self._value


class MintedJWT(KoreAuth):
    """HS256 JWTs minted from `kore.client_id` + `kore.client_secret`, renewed before expiry."""

    description = "a JWT minted from client_id"

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        lifetime: float = DEFAULT_LIFETIME,
        renew_before: float = DEFAULT_RENEW_BEFORE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if renew_before >= lifetime:
            raise ValueError("renew_before must be shorter than the token lifetime")
        self._client_id = client_id
        self._client_secret = client_secret
        self._lifetime = lifetime
        self._renew_before = renew_before
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0
        #: how many tokens were minted (for logs and tests)
        self.minted = 0

    @property
    def expires_at(self) -> float:
        """Unix time the current token expires (0 before the first one)."""
        return self._expires_at

    def token(self) -> str:
        with self._lock:
            if self._token is None or self._clock() >= self._expires_at - self._renew_before:
                self._token = self._mint()
            return self._token

    def _mint(self) -> str:
        now = int(self._clock())
        expires_at = now + int(self._lifetime)
        claims: dict[str, t.Any] = {"appId": self._client_id, "iat": now, "exp": expires_at}
        with warnings.catch_warnings():
            # PyJWT warns when an HMAC key is shorter than the hash; the key is the app's
            # secret as Kore issued it, nothing the tap can lengthen.
            warnings.simplefilter("ignore", InsecureKeyLengthWarning)
            token = jwt.encode(claims, self._client_secret, algorithm="HS256")
        register_secret(token)
        self._expires_at = float(expires_at)
        self.minted += 1
        return token


def auth_from_config(block: t.Mapping[str, t.Any]) -> KoreAuth:
    """The auth form of a (validated) `kore` settings block."""
    if block.get("jwt"):
        return ConfiguredJWT(block["jwt"])
    return MintedJWT(block["client_id"], block["client_secret"])
