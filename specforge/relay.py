"""Framework error messages as specforge relays them: short, and never advising to turn safety off.

NumPy answers an object array with "load it with allow_pickle=True" and Keras a
Lambda layer with "pass safe_mode=False": both would run code from the file.
specforge reads files with those protections on, on purpose, so it drops such
advice from any message it passes on, and cuts messages that dump a whole config.
"""

from __future__ import annotations

import re

#: Sentences that tell the user to disable a protection.
UNSAFE_ADVICE = re.compile(
    r"allow_pickle\s*=\s*`?\s*(True|keyword)|safe_mode\s*=\s*`?\s*False|unsafe_deserialization"
    r"|trust_remote_code|if you trust|load it unsafely|pickle\.load\(",
    re.IGNORECASE,
)
MAX_CHARS = 300


def strip_unsafe_advice(text: str) -> str:
    """``text`` without the sentences (or lines) that advise disabling a protection."""
    parts = re.split(r"(?<=[.!?])\s+|\n+", text)
    return " ".join(p for p in parts if p and not UNSAFE_ADVICE.search(p)).strip()


def framework_message(exc: BaseException, limit: int = MAX_CHARS) -> str:
    """``ExcType: message`` of a framework's exception, safe to show and at most ``limit`` chars."""
    text = strip_unsafe_advice(str(exc))
    if len(text) > limit:
        text = text[:limit].rstrip() + " ... (cut)"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
