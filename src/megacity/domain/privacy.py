"""Personal data rules: pseudonyms for analytics, masks for display.

A complainant is known to the request, the exports and the analytics only by a keyed
pseudonym; the phone number and name are shown masked (138****8000) unless a role may see
them. Masks also apply to numbers typed into free text.
"""

from __future__ import annotations

import hashlib
import hmac
import re

_PHONE_IN_TEXT = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])")
_LANDLINE_IN_TEXT = re.compile(r"(?<!\d)(0\d{2,3}-?)\d{4}(\d{3,4})(?!\d)")


def normalise_phone(phone: str) -> str:
    """Digits only, without a +86/0086 prefix, so that one person gets one pseudonym.

    >>> normalise_phone("+86 138-0013-8000")
    '13800138000'
    """
    digits = re.sub(r"\D", "", phone)
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) == 11:
            return digits[len(prefix) :]
    return digits


def pseudonym(key: str, phone: str) -> str:
    """A stable, keyed pseudonym of a complainant (HMAC-SHA256 of the normalised phone).

    >>> pseudonym("k", "13800138000") == pseudonym("k", "+86 138 0013 8000")
    True
    """
    digest = hmac.new(key.encode(), normalise_phone(phone).encode(), hashlib.sha256).hexdigest()
    return f"p-{digest[:20]}"


def mask_phone(phone: str | None) -> str | None:
    """Keep the first three and last four digits.

    >>> mask_phone("13800138000")
    '138****8000'
    >>> mask_phone("010-12345678")
    '010****5678'
    """
    if not phone:
        return phone
    digits = re.sub(r"\D", "", phone)
    if len(digits) < 8:
        return "*" * len(digits)
    return f"{digits[:3]}****{digits[-4:]}"


def mask_name(name: str | None) -> str | None:
    """Keep the surname only.

    >>> mask_name("张三丰")
    '张**'
    """
    if not name:
        return name
    return name[0] + "*" * (len(name) - 1)


def mask_text(text: str) -> str:
    """Mask mobile, landline and ID-card numbers inside free text.

    >>> mask_text("电话13800138000，身份证110101199001011234")
    '电话138****8000，身份证110101********1234'
    """
    text = _ID_IN_TEXT.sub(lambda m: f"{m.group(1)}********{m.group(2)}", text)
    text = _PHONE_IN_TEXT.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
    return _LANDLINE_IN_TEXT.sub(lambda m: f"{m.group(1)}****{m.group(2)}", text)
