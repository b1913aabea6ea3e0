"""Secrets the database must hold (webhook signing secrets) are stored encrypted.

Fernet (AES-128-CBC with HMAC-SHA256, from `cryptography`) with the keys in
`ORCHESTRATE_SECRETS_KEYS`: a comma-separated list of Fernet keys, the first encrypts and
every one decrypts (to rotate, put a new key first and run `python manage.py
rotate_secrets`). Without the setting the key is derived from `SECRET_KEY` (HKDF-SHA256),
so a stolen database alone reveals no secret either way. Stored values look like
`enc:v1:<token>`; a value without the prefix is a plain secret from before encryption
(migration 0012 encrypts those).
"""

import base64
import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PREFIX = "enc:v1:"


class SecretUnreadable(Exception):
    """A stored secret that none of the configured keys opens."""


def _derived_key(secret_key):
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"orchestrate secrets")
    return base64.urlsafe_b64encode(hkdf.derive(secret_key.encode()))


@functools.cache
def _box(keys, secret_key):
    if not keys:
        return MultiFernet([Fernet(_derived_key(secret_key))])
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "ORCHESTRATE_SECRETS_KEYS must hold Fernet keys (32 url-safe base64-encoded bytes "
            "each, from `python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'`)."
        ) from exc


def box():
    return _box(tuple(settings.ORCHESTRATE_SECRETS_KEYS), settings.SECRET_KEY)


def is_encrypted(stored):
    return stored.startswith(PREFIX)


def encrypt(plain):
    """The stored form of `plain`."""
    return PREFIX + box().encrypt(plain.encode()).decode()


def decrypt(stored):
    """The plain secret of a stored value (a value without the prefix is returned as is)."""
    if not is_encrypted(stored):
        return stored
    try:
        return box().decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken:
        raise SecretUnreadable(
            "A stored secret cannot be decrypted with ORCHESTRATE_SECRETS_KEYS (or SECRET_KEY): "
            "was a key removed or SECRET_KEY changed?"
        ) from None


def reencrypt(stored):
    """`stored` encrypted with the first key (for key rotation)."""
    if not is_encrypted(stored):
        return encrypt(stored)
    return PREFIX + box().rotate(stored[len(PREFIX) :].encode()).decode()
