"""Numbers as news writes them: 32, 三十二, 两, 1.2亿, 8000余万, 百余, 近百, 数十.

An `Amount` keeps the stated number and which side of it the truth lies on, because the grading
boundaries care: 100余人 is more than 100 (食物中毒 "超过100人"), 近30人 is fewer than 30.
"""
from __future__ import annotations

from dataclasses import dataclass

CN_DIGITS = {
    "零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
    "壹": 1, "贰": 2, "叁": 3, "肆": 4, "伍": 5, "陆": 6, "柒": 7, "捌": 8, "玖": 9,
}
CN_SMALL = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
CN_BIG = {"万": 10_000, "亿": 100_000_000}
CN_CHARS = "".join(CN_DIGITS) + "".join(CN_SMALL) + "".join(CN_BIG)

# Full-width digits and point are folded to ASCII before matching (５．４级 → 5.4级); one char each,
# so positions in the folded text are positions in the original.
FOLD = str.maketrans({**{chr(0xFF10 + i): str(i) for i in range(10)}, "．": "."})

# A number as it appears in text. 数十/几百/十几 are vague: read as their lower bound, "more than".
NUMBER = rf"(?:\d+(?:\.\d+)?|[数几][十百千万]+|十几|[{CN_CHARS}]+)"
# Qualifiers before a number. 附近/最近 end in 近 but are places and times, not "nearly".
LESS_BEFORE = ("将近", "接近", "不到", "不足", "近")
MORE_BEFORE = ("超过", "逾", "超", "多于")
EXACT_BEFORE = ("至少", "大约", "约", "共计", "共", "达到", "达")
BEFORE = r"(?P<pre>将近|接近|不到|不足|(?<![附最靠临])近|超过|逾|超|多于|至少|大约|约|共计|共|达到|达)?"
AFTER = r"(?P<m1>余|多|来)?(?P<mult>千万|百万|万|亿)?(?P<m2>余|多)?"
MULTIPLIERS = {"千万": 10_000_000, "百万": 1_000_000, "万": 10_000, "亿": 100_000_000}


@dataclass(frozen=True)
class Amount:
    """A stated number; `more`: the truth is above it (余, 多, 逾); `less`: below it (近, 不到)."""

    value: int
    more: bool = False
    less: bool = False

    @property
    def effective(self) -> float:
        """A point strictly inside the stated side, for comparing with a boundary: 100余 → 100.5."""
        if self.more:
            return self.value + 0.5
        if self.less:
            return self.value - 0.5
        return float(self.value)

    def plus(self, other: Amount) -> Amount:
        return Amount(self.value + other.value, self.more or other.more, self.less or other.less)


def chinese_to_int(text: str) -> int:
    """三十二 → 32, 两百 → 200, 一百零三 → 103, 十 → 10, 一亿二千万 → 120000000, 万 → 10000."""
    total = section = digit = 0
    for ch in text:
        if ch in CN_DIGITS:
            digit = CN_DIGITS[ch]
        elif ch in CN_SMALL:
            section += (digit or 1) * CN_SMALL[ch]
            digit = 0
        elif ch == "万":
            total += ((section + digit) or 1) * 10_000
            section = digit = 0
        elif ch == "亿":
            total = ((total + section + digit) or 1) * 100_000_000
            section = digit = 0
    return total + section + digit


def parse_number(text: str) -> tuple[float, bool]:
    """The value of a NUMBER match and whether it is a vague lower bound (数十, 十几)."""
    if text[0].isdigit():
        return float(text), False
    if text == "十几":
        return 10.0, True
    if text[0] in "数几":
        return float(chinese_to_int(text[1:])), True
    return float(chinese_to_int(text)), False


def amount_from(groups: dict[str, str | None], number_key: str = "num") -> Amount:
    """Build an Amount from the named groups of a BEFORE + NUMBER + AFTER match."""
    value, vague = parse_number(groups[number_key] or "0")
    mult = groups.get("mult")
    if mult:
        value *= MULTIPLIERS[mult]
    pre = groups.get("pre") or ""
    more = vague or pre in MORE_BEFORE or groups.get("m1") in ("余", "多") or groups.get("m2") in ("余", "多")
    less = pre in LESS_BEFORE
    return Amount(int(round(value)), more=more and not less, less=less)
