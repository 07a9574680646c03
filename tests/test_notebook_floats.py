"""No stored output prints a float to its last bits.

The last bits of a float sum depend on the CPU's vector path and the numeric libraries'
build, so an output such as ``-5.872461762827366`` passes nbval only on the machine that
wrote it. Numbers a reader needs are shown rounded (3–4 significant digits for a threshold,
rupees with paise for money); figures are rounded by razorlab's renderer. This scan fails on
any decimal of more than :data:`MAX_DIGITS` significant digits in a stored text output.
"""

import json
import re
from pathlib import Path

import pytest

from razorlab.course.execute import find_notebooks

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = find_notebooks(ROOT)
MAX_DIGITS = 10
DECIMAL = re.compile(r"(?<![\w.])[-+]?(?:\d+\.\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w.])")
TEXT_MIMES = ("text/plain", "text/html")


def significant_digits(number: str) -> int:
    mantissa = re.split(r"[eE]", number)[0].lstrip("+-").replace(".", "")
    return len(mantissa.lstrip("0")) or 1


def long_decimals(text: str) -> list[str]:
    return [m for m in DECIMAL.findall(text) if significant_digits(m) > MAX_DIGITS]


def _texts(output: dict) -> list[str]:
    if output["output_type"] == "stream":
        return ["".join(output["text"])]
    data = output.get("data", {})
    return ["".join(data[m]) for m in TEXT_MIMES if m in data]


def test_the_scan_sees_a_float_printed_in_full():
    assert long_decimals("Thresholds(review=-5.872461762827366, decline=1.41)") == [
        "-5.872461762827366"
    ]
    assert not long_decimals("₹1,234.56 at 0.1235 and 12345678.9 paise, id 1.2.3.4")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[str(p.relative_to(ROOT)) for p in NOTEBOOKS])
def test_stored_outputs_show_no_float_to_its_last_bits(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    found = [
        f"cell {i}: {', '.join(long_decimals(text)[:3])}"
        for i, cell in enumerate(cells)
        if cell["cell_type"] == "code"
        for output in cell["outputs"]
        for text in _texts(output)
        if long_decimals(text)
    ]
    assert not found, f"{path.relative_to(ROOT)}: round these for the reader: {found}"
