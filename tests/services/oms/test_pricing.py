"""Pricing (a pure function) and money in the API document: amounts are Decimals rounded half up to the fen,
totals are exact sums, floats are refused, and every amount goes out as a string.

No platform is needed: the function is called directly and the OpenAPI document is built from the app.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.oms.app import create_app
from services.oms.service import Priced, id_card_check_char, normalize_id_card, price_lines

CENT = Decimal("0.01")

prices = st.decimals(min_value=Decimal("0.00"), max_value=Decimal("99999.99"), places=2, allow_nan=False,
                     allow_infinity=False)
quantities = st.integers(min_value=1, max_value=9999)
lines = st.lists(st.tuples(prices, quantities), min_size=0, max_size=50)


@given(lines)
def test_line_amounts_round_half_up_and_the_total_is_their_exact_sum(pairs: list[tuple[Decimal, int]]) -> None:
    priced = price_lines(pairs)
    assert isinstance(priced, Priced)
    assert len(priced.amounts) == len(pairs)
    for (price, quantity), amount in zip(pairs, priced.amounts, strict=True):
        assert isinstance(amount, Decimal)
        assert amount == (price * quantity).quantize(CENT, rounding=ROUND_HALF_UP)
        assert amount.as_tuple().exponent == -2  # always two places, even for whole amounts
    assert isinstance(priced.total, Decimal)
    assert priced.total == sum(priced.amounts, Decimal("0"))
    assert priced.total.as_tuple().exponent == -2


@given(st.decimals(min_value=Decimal("0"), max_value=Decimal("9999.9999"), places=4, allow_nan=False,
                   allow_infinity=False), quantities)
def test_sub_fen_prices_are_rounded_half_up_per_line(price: Decimal, quantity: int) -> None:
    """A price with more places than the fen (never stored, but the function must not depend on that)."""
    amount = price_lines([(price, quantity)]).amounts[0]
    assert amount == (price * quantity).quantize(CENT, rounding=ROUND_HALF_UP)


def test_known_amounts() -> None:
    priced = price_lines([(Decimal("0.125"), 1), (Decimal("12.50"), 3), (Decimal("0.005"), 1), (Decimal("0.33"), 3)])
    assert priced.amounts == [Decimal("0.13"), Decimal("37.50"), Decimal("0.01"), Decimal("0.99")]
    assert priced.total == Decimal("38.63")
    assert price_lines([]).total == Decimal("0.00")


@given(st.floats(min_value=0, max_value=99999, allow_nan=False), quantities)
def test_float_prices_are_refused(price: float, quantity: int) -> None:
    with pytest.raises(TypeError):
        price_lines([(price, quantity)])


@pytest.mark.parametrize("quantity", [1.0, 2.5, "3", Decimal("2"), True])
def test_quantities_must_be_integers(quantity: Any) -> None:
    with pytest.raises(TypeError):
        price_lines([(Decimal("1.00"), quantity)])


@pytest.mark.parametrize("pair", [(Decimal("-0.01"), 1), (Decimal("1.00"), 0), (Decimal("1.00"), -3)])
def test_negative_prices_and_empty_quantities_are_refused(pair: tuple[Decimal, int]) -> None:
    with pytest.raises(ValueError):
        price_lines([pair])


# ---------------------------------------------------------------------------------------------------------------
# ID-card numbers (GB 11643)


def test_id_card_check_character() -> None:
    assert id_card_check_char("11010519491231002") == "X"  # the standard's own example
    assert id_card_check_char("44052418800101001") == "4"
    assert normalize_id_card(" 11010519491231002x ") == "11010519491231002X"
    for bad in ("110105194912310021", "11010519491231002", "1101051949123100211", "1101051949123100AX",
                "11010519491331002X", "110105194902300029", "１１０１０５１９４９１２３１００２Ｘ"):
        with pytest.raises(Exception) as caught:
            normalize_id_card(bad)
        assert getattr(caught.value, "code", None) == "patient.id_card_invalid", bad


# ---------------------------------------------------------------------------------------------------------------
# Money in the API document

MONEY_FIELDS = {"fee", "amount", "price", "retail_price", "unit_price", "total_amount", "refunded_amount",
                "paid_amount", "unpaid_amount", "refundable_amount", "net_amount"}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return create_app().openapi()


def _response_schemas(spec: dict[str, Any]) -> set[str]:
    """Every component schema reachable from a success response."""
    components = spec["components"]["schemas"]
    pending: list[Any] = []
    for operations in spec["paths"].values():
        for operation in operations.values():
            for status, response in operation["responses"].items():
                if status.startswith("2"):
                    pending.extend(response.get("content", {}).values())
    seen: set[str] = set()
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if ref:
                name = ref.rsplit("/", 1)[1]
                if name not in seen:
                    seen.add(name)
                    pending.append(components[name])
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return seen


def test_every_money_field_of_every_response_is_a_string(spec: dict[str, Any]) -> None:
    components = spec["components"]["schemas"]
    reachable = _response_schemas(spec)
    checked = set()
    for name in reachable:
        for field, prop in components[name].get("properties", {}).items():
            if field in MONEY_FIELDS or field.endswith(("_amount", "_price")):
                assert prop.get("type") == "string", (name, field, prop)
                checked.add(f"{name}.{field}")
    # The documents the cashier works with are among them.
    for expected in ("PaymentOut.amount", "PrescriptionOut.total_amount", "PrescriptionLineOut.unit_price",
                     "ItemOrderOut.refunded_amount", "ItemOrderLineOut.amount", "RegistrationOut.fee",
                     "BillingOut.unpaid_amount", "BillingDocument.refundable_amount", "MethodSummary.net_amount",
                     "HistoryTotals.paid_amount", "DrugLookup.retail_price", "MedicalItemLookup.price",
                     "PaymentLineOut.amount", "ScheduleOut.fee"):
        assert expected in checked, expected


def test_no_request_body_carries_money(spec: dict[str, Any]) -> None:
    """The client never sends an amount: the server prices documents and computes payments."""
    components = spec["components"]["schemas"]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            for media in content.values():
                ref = media["schema"].get("$ref") or next(
                    (o["$ref"] for o in media["schema"].get("anyOf", []) if "$ref" in o), None)
                if ref is None:
                    continue
                properties = components[ref.rsplit("/", 1)[1]].get("properties", {})
                assert not (set(properties) & MONEY_FIELDS), (method, path)
