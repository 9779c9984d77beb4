"""Client secrets: generated with ``secrets``, stored only as argon2id hashes, verified in a thread."""

from __future__ import annotations

import os
import secrets

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from app.core.config import Settings

SECRET_PREFIX = "mash_cs_"  # recognisable by secret scanners if a secret leaks into a repository


def new_client_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


class SecretHasher:
    def __init__(self, settings: Settings) -> None:
        self._hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        )
        # argon2 is CPU- and memory-bound: more hashes at once than cores only queue inside the CPU,
        # cost argon2_memory_kib each, and starve the event loop (every other request waits on it).
        self._limiter = anyio.CapacityLimiter(settings.argon2_max_concurrency or os.cpu_count() or 2)
        # Verified against when a client id is unknown, so that answer takes as long as a wrong secret.
        self._decoy = self._hasher.hash(secrets.token_urlsafe(32))

    def hash(self, secret: str) -> str:
        return self._hasher.hash(secret)

    async def hash_async(self, secret: str) -> str:
        return await anyio.to_thread.run_sync(self._hasher.hash, secret, limiter=self._limiter)

    async def verify(self, secret_hash: str | None, secret: str) -> bool:
        """Constant-time check (argon2 compares digests in constant time); off the event loop."""
        return await anyio.to_thread.run_sync(self._verify, secret_hash, secret, limiter=self._limiter)

    def _verify(self, secret_hash: str | None, secret: str) -> bool:
        try:
            return self._hasher.verify(secret_hash or self._decoy, secret) and secret_hash is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
