"""Credentials the sandbox accepts (constant, distinctive so tests can grep outputs for leaks)."""

from __future__ import annotations

import warnings

import jwt

KORE_CLIENT_ID = "cs-sbx-client"
KORE_CLIENT_SECRET = "sbx-kore-secret-8d2a61"

# A ready JWT for Kore's `auth` header: HS256, signed with the client secret, `appId` claim =
# client id, fixed issue time and an expiry far in the future (so the value is constant).
# (PyJWT warns that this 22-byte secret is short for HS256; it is the spec's fixed value.)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    KORE_JWT = jwt.encode(
        {"appId": KORE_CLIENT_ID, "iat": 1735689600, "exp": 4102444800},  # 2025 .. 2100
        KORE_CLIENT_SECRET,
        algorithm="HS256",
    )

SANDBOX: dict[str, dict[str, str]] = {
    "airgentic": {
        "api_key": "sbx-airgentic-key-3c9f1e",
        "account_id": "acme",
    },
    "kore": {
        "account_id": "acct-sbx",
        "stream_id": "st-sbx-1",
        "jwt": KORE_JWT,
        "client_id": KORE_CLIENT_ID,
        "client_secret": KORE_CLIENT_SECRET,
    },
    "agentx": {
        "api_key": "sbx-agentx-key-51be07",
    },
    "aurion": {
        "token": "sbx-aurion-token-a4d2c9",
    },
    "zendesk_ai": {
        "api_key": "sbx-zendesk-key-e7b310",
        "organization_id": "org-sbx",
    },
}

# Every secret value above, for leak checks (`assert not any(s in output for s in SECRETS)`).
SECRETS: tuple[str, ...] = (
    SANDBOX["airgentic"]["api_key"],
    KORE_JWT,
    KORE_CLIENT_SECRET,
    SANDBOX["agentx"]["api_key"],
    SANDBOX["aurion"]["token"],
    SANDBOX["zendesk_ai"]["api_key"],
)

__all__ = ["KORE_CLIENT_ID", "KORE_CLIENT_SECRET", "KORE_JWT", "SANDBOX", "SECRETS"]
