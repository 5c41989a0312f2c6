"""Money as integers: minor units plus an ISO 4217 code. Never floats.

``Amount.parse("12.5", "EUR")`` is 1250 minor units; ``format()`` gives
``"12.50"``. The number of minor digits per currency follows ISO 4217
(EUR 2, JPY 0, KWD 3, CLF 4). Codes outside the active list are refused as an
"unknown currency".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from samoorg.crdt.framework.errors import MalformedInput, RuleViolation

_ZERO: Final = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_THREE: Final = "BHD IQD JOD KWD LYD OMR TND"
_FOUR: Final = "CLF UYW"
_TWO: Final = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP "
    "BYN BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD "
    "FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD "
    "KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD "
    "NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP "
    "SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED "
    "VES WST XCD XCG YER ZAR ZMW ZWG"
)
MINOR_DIGITS: Final[dict[str, int]] = {
    **dict.fromkeys(_TWO.split(), 2),
    **dict.fromkeys(_ZERO.split(), 0),
    **dict.fromkeys(_THREE.split(), 3),
    **dict.fromkeys(_FOUR.split(), 4),
}
MAX_MINOR: Final = 10**15
"""Largest amount accepted, in minor units (keeps sums far from 2**63)."""
_DECIMAL: Final = re.compile(r"(\d+)(?:\.(\d+))?")


def check_currency(code: str) -> str:
    """Return ``code`` if it is an active ISO 4217 currency, else raise."""
    if code not in MINOR_DIGITS:
        raise MalformedInput(f"unknown currency {code!r}: expected an ISO 4217 code such as EUR")
    return code


@dataclass(frozen=True, slots=True, order=True)
class Amount:
    """A positive or zero sum of money in minor units of one currency."""

    currency: str
    minor: int

    def __post_init__(self) -> None:
        check_currency(self.currency)
        if type(self.minor) is not int:
            raise RuleViolation(f"amounts are integers in minor units, found {self.minor!r}")

    @classmethod
    def parse(cls, text: str, currency: str) -> Amount:
        """Parse a decimal string such as ``"100"`` or ``"99.95"``; refuse floats' pitfalls.

        Raises :class:`MalformedInput` for a malformed, zero, negative, too
        precise or too large amount, or an unknown currency.
        """
        code = check_currency(currency.strip().upper())
        digits = MINOR_DIGITS[code]
        value = text.strip()
        if re.fullmatch(r"-\d+(?:\.\d+)?", value):
            raise MalformedInput(f"amount must be positive, found {value}")
        match = _DECIMAL.fullmatch(value)
        if match is None:
            raise MalformedInput(
                f"expected a positive decimal amount such as 100 or 12.50, found {text!r}"
            )
        whole, frac = match.group(1), match.group(2) or ""
        if len(frac) > digits:
            cents = "no decimals" if digits == 0 else f"at most {digits} decimals"
            raise MalformedInput(f"{code} amounts have {cents}, found {text!r}")
        minor = int(whole) * 10**digits + int(frac.ljust(digits, "0") or "0")
        amount = cls(code, minor)
        try:
            amount.check_positive()
        except RuleViolation as exc:
            raise MalformedInput(str(exc)) from None
        return amount

    def check_positive(self) -> None:
        """Raise unless ``0 < minor <= MAX_MINOR``."""
        if self.minor <= 0:
            raise RuleViolation(
                f"expected a positive amount, found {self.format()} {self.currency}"
            )
        if self.minor > MAX_MINOR:
            largest = Amount(self.currency, MAX_MINOR)
            raise RuleViolation(f"expected an amount of at most {largest}, found {self}")

    def format(self) -> str:
        """Decimal text with exactly the currency's minor digits: ``"200.00"``."""
        digits = MINOR_DIGITS[self.currency]
        sign = "-" if self.minor < 0 else ""
        value = abs(self.minor)
        if digits == 0:
            return f"{sign}{value}"
        return f"{sign}{value // 10**digits}.{value % 10**digits:0{digits}d}"

    def __str__(self) -> str:
        return f"{self.format()} {self.currency}"


def format_totals(totals: dict[str, int]) -> dict[str, str]:
    """``{"EUR": 20000}`` -> ``{"EUR": "200.00"}``, sorted by code (the JSON shape)."""
    return {code: Amount(code, totals[code]).format() for code in sorted(totals)}
