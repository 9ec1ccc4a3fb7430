r"""CSV delimiter, enclosure and escape options: what they spell, and which combinations work.

The value of ``FIELD_DELIMITER``, ``RECORD_DELIMITER``, ``ESCAPE``,
``ESCAPE_UNENCLOSED_FIELD`` and ``FIELD_OPTIONALLY_ENCLOSED_BY`` is the text between the
quotes of the SQL literal. Spec 004 reads it in two steps: the literal's own escapes
(``'\\'`` is a backslash, ``'\336'`` the octal character), then the option's spellings
(``'\\336'`` octal, ``'0xDE'`` hexadecimal, ``'\\t'`` a tab). Both give one character (a
code point: ``0xDE`` and ``\336`` are the thorn ``Þ``, written in UTF-8).

`check_csv_characters` refuses, when a `CSV` format is built (so every engine refuses
alike), what the spec forbids: an empty delimiter, a delimiter over 20 characters, a
field delimiter and a record delimiter one of which holds the other (``'aa'`` and
``'aabb'``; the defaults ``,`` and ``\n`` count), an ESCAPE, ESCAPE_UNENCLOSED_FIELD or
FIELD_OPTIONALLY_ENCLOSED_BY that is not one character or that occurs in a delimiter.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from sqla_stage.errors import StageArgumentError
from sqla_stage.options import AUTO, NONE, Keyword, OptionValue

#: The longest delimiter the spec allows, in characters.
MAX_DELIMITER_LENGTH = 20
#: Snowflake's defaults.
DEFAULT_FIELD_DELIMITER = ","
DEFAULT_RECORD_DELIMITER = "\n"

_ESCAPE = re.compile(
    r"\\(?:([0-7]{1,3})|x([0-9A-Fa-f]{2})|u([0-9A-Fa-f]{4})|(.))",
    re.S,
)
_HEX = re.compile(r"0[xX]([0-9A-Fa-f]{1,8})")
_LETTERS = {"t": "\t", "n": "\n", "r": "\r", "b": "\b", "f": "\f"}
_SINGLE_CHARACTERS = ("escape", "escape_unenclosed_field", "field_optionally_enclosed_by")


def _code_point(value: int, spelled: str) -> str:
    if value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
        raise StageArgumentError(
            f"CSV: {spelled!r} is not a valid UTF-8 character (the spec takes a character, "
            "not a sequence of bytes)"
        )
    return chr(value)


def _unescape(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        octal, hex_byte, unicode, char = match.groups()
        number = octal or hex_byte or unicode
        if number:
            return _code_point(int(number, 8 if octal else 16), match.group())
        return str(_LETTERS.get(char, char))

    return _ESCAPE.sub(replace, text)


def decode_character(value: str) -> str:
    r"""The characters a delimiter option's text stands for.

    ``'0xDE'`` is a code point in hexadecimal, ``\336`` and ``\\336`` one in octal, and
    ``\t``, ``\n``, ``\r``, ``\b``, ``\f`` and ``\<char>`` the usual escapes.

    Raises:
        StageArgumentError: a code point that is not a character.
    """
    text = _unescape(value)
    whole = _HEX.fullmatch(text)
    if whole:
        return _code_point(int(whole.group(1), 16), value)
    return _unescape(text)


def character_option(value: OptionValue | None) -> str | None:
    """A character option's characters; None when absent, NONE or AUTO."""
    if value is None or (isinstance(value, Keyword) and value in (NONE, AUTO)):
        return None
    return decode_character(str(value))


def delimiters(options: Mapping[str, OptionValue]) -> tuple[str | None, str | None]:
    """The field and record delimiters a CSV format uses (None: NONE was given)."""
    found: list[str | None] = []
    for name, default in (
        ("field_delimiter", DEFAULT_FIELD_DELIMITER),
        ("record_delimiter", DEFAULT_RECORD_DELIMITER),
    ):
        value = options.get(name)
        found.append(default if value is None else character_option(value))
    return found[0], found[1]


def check_csv_characters(options: Mapping[str, OptionValue]) -> None:
    """Refuse the delimiter, escape and enclosure values spec 004 does not allow.

    Raises:
        StageArgumentError: see the module's docstring.
    """
    field, record = delimiters(options)
    for name, decoded in (("FIELD_DELIMITER", field), ("RECORD_DELIMITER", record)):
        if decoded == "":
            raise StageArgumentError(f"CSV: {name} = '' is empty; give NONE for no delimiter")
        if decoded is not None and len(decoded) > MAX_DELIMITER_LENGTH:
            raise StageArgumentError(
                f"CSV: {name} = {decoded!r} has {len(decoded)} characters; a delimiter has "
                f"at most {MAX_DELIMITER_LENGTH}"
            )
    if field is not None and record is not None and (field in record or record in field):
        raise StageArgumentError(
            f"CSV: FIELD_DELIMITER = {field!r} and RECORD_DELIMITER = {record!r}: neither "
            "delimiter may be a substring of the other (defaults: ',' and '\\n')"
        )
    for name in _SINGLE_CHARACTERS:
        char = character_option(options.get(name))
        if char is None:
            continue
        upper = name.upper()
        if len(char) != 1:
            raise StageArgumentError(f"CSV: {upper} = {char!r} must be one character")
        for label, delimiter in (("FIELD_DELIMITER", field), ("RECORD_DELIMITER", record)):
            if delimiter is not None and char in delimiter:
                raise StageArgumentError(
                    f"CSV: {upper} = {char!r} occurs in {label} = {delimiter!r}; a delimiter "
                    "may not use the characters of the other options"
                )
