"""Casualty and loss figures read from the text of one event (DESIGN.md §2.3).

Counts are a number plus a person unit tied to a keyword: "3人死亡" (count, then keyword within
`max_gap` characters and no other number between), "死亡人数升至12人" (keyword, then count), "5死12伤".
A field takes the largest count found (reports update: 已致, 升至). "无人员伤亡" sets deaths and injured
to 0 unless a count says otherwise; a death word with no count ("当场身亡") means one death.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from classify.numbers import AFTER, BEFORE, CN_CHARS, NUMBER, Amount, amount_from
from classify.ruleset import FIGURES, FigureRules

STOPS = "，。；！？,;!?：:()（）\n"
# A count followed directly by 、 is one item of a list ("重伤5人、轻伤16人"): its keyword is before it.
LIST_MARK = "、"
_NUMERAL = re.compile(rf"[\d{CN_CHARS}]")
# Words that look like a field keyword after a count but mean something else (死伤 = dead and hurt).
IGNORED_AFTER = ("死伤", "伤亡", "伤势", "伤心", "亡故者")
BEFORE_WINDOW = 6
CASUALTIES = ("deaths", "injured", "seriously_injured", "missing", "trapped")
# A second keyword right after the first still describes the same count: "3名工人中毒窒息死亡".
CHAINED_GAP = 2


def _alternation(words: Sequence[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


@dataclass(frozen=True)
class _Keyword:
    field: str
    categories: tuple[str, ...]


class FigureReader:
    """Compiled from the [figures] rules; `read` is pure and safe to call from several threads."""

    def __init__(self, rules: FigureRules) -> None:
        self.rules = rules
        units = _alternation(rules.person_units)
        self._count = re.compile(
            rf"(?<![\d.第{CN_CHARS}]){BEFORE}(?P<num>{NUMBER}){AFTER}(?P<unit>{units})"
        )
        self._after: dict[str, list[_Keyword]] = {}
        self._before: dict[str, list[_Keyword]] = {}
        for field in rules.fields:
            for word in field.after:
                self._after.setdefault(word, []).append(_Keyword(field.name, field.categories))
            for word in field.before:
                self._before.setdefault(word, []).append(_Keyword(field.name, field.categories))
        self.keywords = frozenset([*self._after, *self._before])
        self._after_re = re.compile(_alternation([*self._after, *IGNORED_AFTER]))
        self._before_re = re.compile(_alternation(list(self._before)))
        self._after_reach = rules.max_gap + max(map(len, self._after))
        self._before_reach = BEFORE_WINDOW + max(map(len, self._before))
        self._dead_hurt = re.compile(
            rf"(?<![\d.第{CN_CHARS}])(?P<d>{NUMBER})人?死(?![伤亡者刑去活守角敌了心])"
            rf"(?:[、，,]?(?P<ipre>逾|超过|近)?(?P<i>{NUMBER})(?P<im>余|多)?人?(?P<heavy>重)?伤(?![心感害口残员者势]))?"
        )
        no_numeral = rf"[^{re.escape(STOPS)}\d{CN_CHARS}]"
        self._loss = re.compile(
            rf"(?:{_alternation(rules.loss_keywords)})(?:{no_numeral}{{0,{rules.loss_max_gap}}}?)"
            rf"(?P<pre>上|超过|逾|将近|近|约|高达|达|共计|共)?(?P<num>{NUMBER}){AFTER}(?P<yuan>元|人民币)?"
        )
        self._implied = re.compile(_alternation(rules.implied_death)) if rules.implied_death else None

    def read(
        self, text: str, category: str | None, blocked: Sequence[tuple[int, int]] = ()
    ) -> dict[str, Amount | None]:
        """All eight figures; None where the text gives nothing. `blocked` spans (statistics, drills,
        past events) are not read."""
        return self.read_with_positions(text, category, blocked)[0]

    def read_with_positions(
        self, text: str, category: str | None, blocked: Sequence[tuple[int, int]] = ()
    ) -> tuple[dict[str, Amount | None], list[int]]:
        """The figures, and where each positive casualty count (dead, hurt, trapped, missing) starts."""
        found: dict[str, Amount | None] = dict.fromkeys(FIGURES)
        casualty_at: list[int] = []

        def inside_blocked(pos: int) -> bool:
            return any(start <= pos < end for start, end in blocked)

        def keep(field: str, amount: Amount) -> None:
            old = found[field]
            if old is None or amount.effective > old.effective:
                found[field] = amount

        def allowed(keywords: list[_Keyword]) -> list[str]:
            return [k.field for k in keywords if not k.categories or category in k.categories]

        for match in self._count.finditer(text):
            if inside_blocked(match.start()):
                continue
            amount = amount_from(match.groupdict())
            fields = self._fields_after(text, match.end(), allowed) or self._field_before(
                text, match.start(), allowed
            )
            for field in fields:
                keep(field, amount)
                if field in CASUALTIES and amount.value > 0:
                    casualty_at.append(match.start())
        for match in self._dead_hurt.finditer(text):
            if inside_blocked(match.start()):
                continue
            casualty_at.append(match.start())
            keep("deaths", amount_from({"num": match["d"]}))
            if match["i"]:
                hurt = amount_from({"num": match["i"], "pre": match["ipre"], "m1": match["im"]})
                keep("seriously_injured" if match["heavy"] else "injured", hurt)
        for match in self._loss.finditer(text):
            # Money needs a magnitude or a currency: 损失300万元, 损失上千万; "损失3人" is not money.
            if inside_blocked(match.start()) or not (
                match["mult"] or match["yuan"] or any(ch in match["num"] for ch in "万亿")
            ):
                continue
            groups = match.groupdict()
            amount = amount_from({**groups, "pre": None})
            if groups["pre"] in ("上", "超过", "逾"):
                amount = Amount(amount.value, more=True)
            elif groups["pre"] in ("将近", "近"):
                amount = Amount(amount.value, less=True)
            keep("loss_yuan", amount)
        for zero in self.rules.zeros:
            for match in zero.pattern.finditer(text):
                if inside_blocked(match.start()):
                    continue
                for field in zero.fields:
                    if found[field] is None:
                        found[field] = Amount(0)
        if found["deaths"] is None and self._implied is not None:
            for match in self._implied.finditer(text):
                if not inside_blocked(match.start()):
                    found["deaths"] = Amount(1)
                    break
        return found, casualty_at

    def _fields_after(self, text: str, end: int, allowed: Callable[[list[_Keyword]], list[str]]) -> list[str]:
        """Fields of the keywords that follow a count within the gap, before any other number."""
        window = text[end:end + self._after_reach]
        if window.startswith(LIST_MARK):
            return []
        for i, ch in enumerate(window):
            if ch in STOPS or _NUMERAL.match(ch):
                window = window[:i]
                break
        fields: list[str] = []
        previous_end = None
        for match in self._after_re.finditer(window):
            word = match.group()
            if previous_end is None:
                gap = match.start()
                if gap > self.rules.max_gap or (len(word) == 1 and gap > 0):
                    continue
            elif match.start() - previous_end > CHAINED_GAP:
                break  # "34名伤者中有重伤8人": 重伤 belongs to the next count, not to 34
            previous_end = match.end()
            for field in allowed(self._after.get(word, [])):
                if field not in fields:
                    fields.append(field)
        return fields

    def _field_before(self, text: str, start: int, allowed: Callable[[list[_Keyword]], list[str]]) -> list[str]:
        """Field of the nearest keyword just before a count ("死亡人数升至12人", "疏散群众30余人")."""
        segment = text[max(0, start - self._before_reach):start]
        for i in range(len(segment) - 1, -1, -1):
            if segment[i] in STOPS:
                segment = segment[i + 1:]
                break
        best: list[str] = []
        for match in self._before_re.finditer(segment):
            gap = segment[match.end():]
            if len(gap) <= BEFORE_WINDOW and not _NUMERAL.search(gap):
                best = allowed(self._before[match.group()])
        return best


def to_ints(figures: dict[str, Amount | None]) -> dict[str, int | None]:
    """The stated numbers, as reported to users (近30人 → 30; the grading keeps the qualifier)."""
    return {name: (None if amount is None else amount.value) for name, amount in figures.items()}
