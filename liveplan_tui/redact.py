"""Masking of secrets in anything the model or the user will see, or a log will hold.

Three nets: the exact secrets we know (our own keys), token shapes that
providers publish (`sk-…`, `ghp_…`, JWTs…), and values whose *name* or
*place* says they are secret (`*_TOKEN=`, `password:`, `user:pass@` in URLs).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "[REDACTED]"

_PATTERNS = [
    re.compile(r"\bsk-(?:proj-|ant-|or-)?[A-Za-z0-9_\-]{16,}"),
    re.compile(r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}"),
    re.compile(r"\b(?:ghp|gho|ghs|ghu|ghr)_[A-Za-z0-9]{20,}"),
    re.compile(r"\bgithub_pat_[A-Za-z0-9_]{20,}"),
    re.compile(r"\bglpat-[A-Za-z0-9_\-]{20,}"),
    re.compile(r"\bnpm_[A-Za-z0-9]{30,}"),
    re.compile(r"\bxox[abposr]-[A-Za-z0-9\-]{10,}"),
    re.compile(r"\bhooks\.slack\.com/services/[A-Za-z0-9/]+"),
    re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    re.compile(r"\bAIza[0-9A-Za-z_\-]{35}"),
    re.compile(r"\bya29\.[0-9A-Za-z_\-]{20,}"),
    re.compile(r"\bhf_[A-Za-z0-9]{30,}"),
    re.compile(r"\bgsk_[A-Za-z0-9]{30,}"),
    re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)"),
]
# Credentials inside a URL: scheme://user:password@host keeps the user and host, hides the password.
_URL_CREDENTIALS = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s:/@\"'<>]*:)([^\s@/\"'<>]+)(@)")
_BEARER = re.compile(r"(?i)(\b(?:bearer|basic|token)\s+)([A-Za-z0-9_\-.=+/]{12,})")
# KEY=value or "api_key": "value" where the name says it is a secret; the name stays visible.
_ASSIGNMENT = re.compile(
    r"""(?ix)
    (\b[\w.\-]*(?:api[_-]?key|secret|token|passw(?:or)?d|pwd|passphrase|credential|auth|private[_-]?key
                 |access[_-]?key|[_.\-]key|dsn|cookie|session[_-]?id)[\w.\-]*["']?\s*[:=]\s*["']?)
    (?!(?:bearer|basic|token)\s)([^\s"',;]{6,})
    """
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Replace known secrets and anything shaped like a key with [REDACTED]."""
    for secret in secrets:
        if secret and len(secret) >= 6:
            text = text.replace(secret, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(MASK, text)
    text = _URL_CREDENTIALS.sub(lambda m: m.group(1) + MASK + m.group(3), text)
    text = _BEARER.sub(lambda m: m.group(1) + MASK, text)
    return _ASSIGNMENT.sub(lambda m: m.group(1) + (m.group(2) if m.group(2).startswith(MASK) else MASK), text)
