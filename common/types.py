"""Field types every service's schemas share: ids, money, phone numbers and bounded text.

Money is `Decimal` end to end (ARCHITECTURE §4): `Money` for input (at most two decimals, never negative, never
a float: a JSON number is refused, only a string such as "12.50" or an integer is taken), `MoneyOut` for output
(always a string with two decimals), `to_fen` for arithmetic (ROUND_HALF_UP to the fen).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, PlainSerializer, StringConstraints

# Ids are INT columns: a larger number can only be a mistake, and must be a 422, not a database error.
MAX_ID = 2_147_483_647
Id = Annotated[int, Field(ge=1, le=MAX_ID)]

FEN = Decimal("0.01")


def to_fen(value: Decimal) -> Decimal:
    """Round to the fen, half up (2.345 → 2.35). Refuses floats: they cannot hold most prices exactly."""
    if not isinstance(value, Decimal):
        raise TypeError(f"money must be a Decimal, not {type(value).__name__}")
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def _no_float(value: Any) -> Any:
    if isinstance(value, float):
        raise ValueError("money must be sent as a string such as \"12.50\", not as a JSON number")
    return value


def _fen_string(value: Decimal) -> str:
    return str(to_fen(value))


def blank_to_none(value: Any) -> Any:
    """Forms send "" for an empty optional field; store that as NULL."""
    return None if isinstance(value, str) and not value.strip() else value


# Money in: a Decimal of at most 12 digits with at most 2 after the point, never negative; "12.345" and "-1"
# are rejected, "12.5" becomes 12.50.
Money = Annotated[Decimal, BeforeValidator(_no_float),
                  Field(ge=0, max_digits=12, decimal_places=2, examples=["12.50"]), AfterValidator(to_fen)]
# Money out: always a string with exactly two decimals, e.g. "12.50".
MoneyOut = Annotated[Decimal, PlainSerializer(_fen_string, return_type=str)]

# Loosely a phone number: digits, spaces, '+' and '-' (e.g. "+86 138-0000-0000", "021-63211234"), 5-20 chars.
Phone = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=20, pattern=r"^[+0-9][0-9 +-]{3,18}[0-9]$")
]
OptionalPhone = Annotated[Phone | None, BeforeValidator(blank_to_none)]


def text(max_length: int) -> Any:
    """A required free-text field: trimmed, 1..max_length characters."""
    return Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length)]


def optional_text(max_length: int) -> Any:
    """An optional free-text field: trimmed, at most max_length characters; blank means none."""
    bounded = Annotated[str, StringConstraints(strip_whitespace=True, max_length=max_length)]
    return Annotated[bounded | None, BeforeValidator(blank_to_none)]
