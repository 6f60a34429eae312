"""Strict input fields (API.md "Types are strict"). Every input serializer of the API builds on
these, so a new endpoint inherits the same rules and the same OpenAPI patterns:

- money is a JSON string of a plain decimal, at most 2 places, 0..1,000,000 (no float, no
  exponent, no sign, no spaces, no leading zeros, ASCII digits only);
- integers are JSON integers (not strings, floats, or booleans);
- booleans are JSON true/false;
- text is a JSON string without control characters (single-line text refuses tab and newline
  too) and without invisible characters that disguise what is stored (bidi controls, zero-width
  space, BOM, line/paragraph separators); its length limit counts the characters sent;
- e-mail addresses look deliverable: dot-atom@domain.tld in ASCII, no IP literal, local part
  at most 64 characters.

Each field says in `openapi_schema()` exactly what it accepts; `articurated.api.schema` puts that
in the OpenAPI document, and each field checks its value against the same regular expression,
so the document and the server cannot drift apart.
"""

import re
import uuid
from decimal import Decimal

from django.core.validators import EmailValidator
from rest_framework import serializers

# Characters no text field stores: C0/C1 controls and DEL, the zero-width space, bidi
# embeddings/overrides/isolates, line and paragraph separators, and the BOM. (ZWNJ and ZWJ stay
# allowed: Persian, Indic scripts and emoji sequences need them.)
_REFUSED = (
    "\\u0000-\\u001f\\u007f-\\u009f\\u200b\\u200e\\u200f\\u202a-\\u202e\\u2028\\u2029"
    "\\u2066-\\u2069\\ufeff"
)
# Multi-line text (notes, comments, reasons) may hold tab, newline and carriage return.
_REFUSED_MULTILINE = (
    "\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f\\u200b\\u200e\\u200f"
    "\\u202a-\\u202e\\u2028\\u2029\\u2066-\\u2069\\ufeff"
)


def text_pattern(*, multiline: bool, allow_blank: bool) -> str:
    """The ECMA/Python regular expression a text value must match: no refused character, and
    unless blank is allowed, at least one character that is not whitespace (the server trims,
    so "   " is blank)."""
    refused = _REFUSED_MULTILINE if multiline else _REFUSED
    if allow_blank:
        return f"^[^{refused}]*$"
    return f"^[^{refused}]*[^\\s{refused}][^{refused}]*$"


# A lone UTF-16 surrogate: JSON can carry one (\ud800), UTF-8 and the database cannot.
_SURROGATE = re.compile("[\ud800-\udfff]")


class StrictCharField(serializers.CharField):
    """A JSON string; refuses numbers and booleans (DRF's CharField turns 5 into "5"), control
    and invisible characters. `multiline=True` allows tab, CR and LF. max_length counts the
    characters sent, before trimming, so it matches the schema's maxLength."""

    default_error_messages = {
        "not_a_string": "A string is required.",
        "bad_character": "Control or invisible characters are not allowed (found {char}).",
        "surrogate": "Unpaired surrogate characters are not allowed.",
    }

    def __init__(self, *, multiline: bool = False, **kwargs) -> None:
        self.multiline = multiline
        super().__init__(**kwargs)
        self._refused = re.compile(f"[{_REFUSED_MULTILINE if multiline else _REFUSED}]")

    def run_validation(self, data=serializers.empty):
        if data not in (serializers.empty, None) and not isinstance(data, str):
            self.fail("not_a_string")
        if isinstance(data, str) and self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length, length=len(data))
        return super().run_validation(data)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_a_string")
        found = self._refused.search(data)
        if found:
            self.fail("bad_character", char=f"U+{ord(found.group()):04X}")
        if _SURROGATE.search(data):
            self.fail("surrogate")
        return super().to_internal_value(data)

    def openapi_schema(self) -> dict:
        schema = {"pattern": text_pattern(multiline=self.multiline, allow_blank=self.allow_blank)}
        if not self.allow_blank:
            schema["minLength"] = max(self.min_length or 0, 1)
        return schema


_ATEXT = "A-Za-z0-9!#$%&'*+/=?^_`{|}~-"
_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL_PATTERN = (
    f"^(?=[^@]{{1,64}}@)[{_ATEXT}]+(?:\\.[{_ATEXT}]+)*"
    f"@(?:{_LABEL}\\.)+(?:[A-Za-z]{{2,63}}|xn--[A-Za-z0-9-]{{1,59}})$"
)
_EMAIL = re.compile(EMAIL_PATTERN)


class StrictEmailField(StrictCharField):
    """A deliverable-looking address: `local@domain.tld` in ASCII (IDN domains as punycode),
    local part at most 64 characters, no IP literal, no quoted local part, no `localhost`."""

    default_error_messages = {"invalid": "Enter a valid e-mail address (user@domain.tld)."}

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_length", 254)
        # " ada@example.com" is refused, not trimmed: the pattern in the schema refuses it too.
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)
        # Django's validator as well: it knows the length limits of each domain label.
        self.validators.append(EmailValidator(message=self.error_messages["invalid"], allowlist=[]))

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not _EMAIL.fullmatch(value):
            self.fail("invalid")
        return value

    def openapi_schema(self) -> dict:
        return {"format": "email", "pattern": EMAIL_PATTERN, "minLength": 6}


MAX_MONEY = Decimal("1000000")
# 0 … 999999.99, or exactly 1000000(.0/.00): what MAX_MONEY and 2 places allow, as a pattern.
MONEY_PATTERN = r"^(?:(?:0|[1-9][0-9]{0,5})(?:\.[0-9]{1,2})?|1000000(?:\.00?)?)$"
_MONEY = re.compile(MONEY_PATTERN)


class StrictMoneyField(serializers.DecimalField):
    """Money in: a JSON string such as "49.50" (0..1,000,000, at most 2 decimals). A JSON number,
    an exponent ("1e2"), a sign, spaces or leading zeros are refused rather than converted."""

    default_error_messages = {
        "not_money": (
            'Money is a string with at most 2 decimals between 0 and 1000000, e.g. "49.50".'
        ),
    }

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_digits", 9)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", Decimal("0"))
        kwargs.setdefault("max_value", MAX_MONEY)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str) or not _MONEY.fullmatch(data):
            self.fail("not_money")
        return super().to_internal_value(data)

    def openapi_schema(self) -> dict:
        return {"type": "string", "format": "decimal", "pattern": MONEY_PATTERN}


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer: "2", 2.0 and true are refused (DRF's IntegerField accepts all three)."""

    default_error_messages = {"not_an_integer": "An integer is required (a JSON number)."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("not_an_integer")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """JSON true or false; "true", 1 and "yes" are refused."""

    default_error_messages = {"not_a_boolean": "true or false is required."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("not_a_boolean")
        return data


class StrictUUIDField(serializers.UUIDField):
    """A UUID as a string in its canonical hyphenated form (DRF's UUIDField also takes an
    integer, 32 bare hex digits, braces and a urn: prefix)."""

    _CANONICAL = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")

    def to_internal_value(self, data):
        if not isinstance(data, str) or not self._CANONICAL.fullmatch(data):
            self.fail("invalid", value=data)
        return uuid.UUID(data)


class StrictChoiceField(serializers.ChoiceField):
    """One of the choices, as a JSON string (DRF's ChoiceField compares str(value))."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid_choice", input=data)
        return super().to_internal_value(data)


def codes_pattern(codes) -> str:
    """A pattern that matches exactly these codes, in any letter case (`^(?:[Gg][Bb]|…)$`)."""
    alternatives = (
        "".join(
            f"[{char.upper()}{char.lower()}]" if char.isalpha() else re.escape(char)
            for char in code
        )
        for code in sorted(codes)
    )
    return f"^(?:{'|'.join(alternatives)})$"


class _Codes(frozenset):
    """Upper-case codes; immutable, so a deep copy is the set itself."""

    def __init__(self, codes=()) -> None:
        lengths = {len(code) for code in self}
        self.shortest, self.longest = min(lengths), max(lengths)

    def __deepcopy__(self, memo):
        return self


class StrictCodeField(StrictCharField):
    """One of a fixed set of codes (ISO 3166 countries, ISO 4217 currencies), in any letter case,
    taken upper case. Not trimmed: " GB" is refused, as the schema's pattern says. The set is
    the schema's pattern, so a code the server refuses is outside the schema too."""

    def __init__(self, *, codes, message: str, **kwargs) -> None:
        if not isinstance(codes, _Codes):
            codes = _Codes(code.upper() for code in codes)
            # DRF copies a serializer's fields for every instance, from these arguments: the
            # copies share the normalized, immutable set instead of copying hundreds of codes.
            self._kwargs["codes"] = codes
        self.codes = codes
        self.code_message = message
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(min_length=codes.shortest, max_length=codes.longest, **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data).upper()
        if value not in self.codes:
            raise serializers.ValidationError(self.code_message)
        return value

    def openapi_schema(self) -> dict:
        return {"pattern": codes_pattern(self.codes)}
