"""Go-style durations ("500ms", "10s", "1m30s"), as Consul reads and prints them.

Consul parses every duration in its API (``wait``, check ``Interval``/``Timeout``/``TTL``,
``DeregisterCriticalServiceAfter``) with Go's ``time.ParseDuration`` and prints them with
``time.Duration.String``; clients send and compare those spellings, so we use the same ones.
"""

import re

_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_TERM = r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)"
_DURATION = re.compile(rf"([-+]?)((?:{_TERM})+)")
_NS_PER_S = 1_000_000_000


def parse_duration(text: str) -> float:
    """Seconds in ``text``; raises ValueError with Go's message for anything Go would reject."""
    if text in ("0", "+0", "-0"):
        return 0.0
    match = _DURATION.fullmatch(text)
    if match is None:
        raise ValueError(f'time: invalid duration "{text}"')
    seconds = sum(float(number) * _UNIT_SECONDS[unit] for number, unit in re.findall(_TERM, match.group(2)))
    return -seconds if match.group(1) == "-" else seconds


def format_duration(seconds: float) -> str:
    """``seconds`` spelled as Go's ``time.Duration.String`` does: "200ms", "10s", "1m0s"."""
    ns = round(seconds * _NS_PER_S)
    if ns == 0:
        return "0s"
    sign, ns = ("-" if ns < 0 else ""), abs(ns)
    if ns < _NS_PER_S:
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if ns >= size:
                return sign + _decimal(ns, size) + unit
    hours, ns = divmod(ns, 3600 * _NS_PER_S)
    minutes, ns = divmod(ns, 60 * _NS_PER_S)
    text = _decimal(ns, _NS_PER_S) + "s"
    if hours or minutes:
        text = f"{minutes}m" + text
    if hours:
        text = f"{hours}h" + text
    return sign + text


def _decimal(value: int, unit: int) -> str:
    """``value / unit`` written exactly, without trailing zeros (Go prints 1.5s, never 1.500s)."""
    whole, fraction = divmod(value, unit)
    if not fraction:
        return str(whole)
    digits = len(str(unit)) - 1
    return f"{whole}." + str(fraction).rjust(digits, "0").rstrip("0")
