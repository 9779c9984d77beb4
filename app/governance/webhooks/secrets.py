"""Signing secrets: made as Standard Webhooks says (``whsec_`` and base64 of 24 random bytes), kept
encrypted with Fernet (AES-128-CBC and HMAC-SHA256) under ``MASH_WEBHOOK_SECRETS_KEY``, or a key derived
from the JWT secret when that is unset. The worker must sign with the secret, so it cannot be hashed."""

from __future__ import annotations

import base64
import hashlib
import secrets

from cryptography.fernet import Fernet

from app.core.config import Settings

PREFIX = "whsec_"


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def _fernet(settings: Settings) -> Fernet:
    if settings.webhook_secrets_key is not None:
        return Fernet(settings.webhook_secrets_key.get_secret_value().encode())
    derived = hashlib.sha256(b"mash webhook secrets\x00" + settings.jwt_secret.get_secret_value().encode())
    return Fernet(base64.urlsafe_b64encode(derived.digest()))


def seal(settings: Settings, secret: str) -> str:
    return _fernet(settings).encrypt(secret.encode()).decode()


def unseal(settings: Settings, sealed: str) -> str:
    return _fernet(settings).decrypt(sealed.encode()).decode()
