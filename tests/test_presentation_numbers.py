"""Numbers are written the Vietnamese way on every page (1.234.567; 1,5). `number` writes them without Babel's
pattern machinery (the operations centre writes thousands per page); it must agree with Babel's "#,##0.#"."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from babel.numbers import format_decimal

from portal.core.presentation import money, number


def babel(value: float | int | Decimal) -> str:
    return format_decimal(value, format="#,##0.#", locale="vi")


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0, "0"),
        (999, "999"),
        (1000, "1.000"),
        (-1234567, "-1.234.567"),
        (1.5, "1,5"),
        (12.0, "12"),
        (0.25, "0,2"),  # half to even, like Babel
        (0.35, "0,4"),  # rounded on the written digits, as Babel does
        (999.95, "1.000"),
        (-2.46, "-2,5"),
        (-0.04, "0"),  # not "-0"
        (Decimal("1.25"), "1,2"),
        (None, ""),
    ],
)
def test_numbers_are_grouped_with_dots_and_one_decimal_comma(value: float | None, shown: str) -> None:
    assert number(value) == shown


def test_number_agrees_with_babel_on_many_values() -> None:
    rng = random.Random(7)
    values: list[float | int] = [rng.randint(-(10**12), 10**12) for _ in range(2000)]
    values += [round(rng.uniform(-1e7, 1e7), rng.randint(0, 4)) for _ in range(3000)]
    values += [rng.random() * 100 for _ in range(3000)]
    differing = [(v, number(v), babel(v)) for v in values if abs(v) >= 0.05 and number(v) != babel(v)]
    assert differing == []


def test_infinite_values_are_left_to_babel_and_money_is_in_dong() -> None:
    assert number(float("inf")) == babel(float("inf"))
    assert money(50_000_000) == "50.000.000\u00a0đ"
