"""The quarterly bulletin (第十条: 日常考核……每季度通报一次): per unit, what was recorded in the quarter.

Late and overdue windows (by the quarter their deadline fell in), referrals sent, daily records,
special items, zeroings and appeal decisions; Markdown for publishing, xlsx for the office.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from classify.units import UnitRef
from scoring.facts import AppealDecision, DailyRecord, Referral, ScoredIncident, SpecialItem, Zeroing
from scoring.indicators import attribution, referral_state, within
from scoring.scheme import Scheme
from scoring.wallclock import duration
from timeline.clock import BEIJING, display_beijing, require_aware
from timeline.model import STATE_NAMES, WINDOW_NAMES
from yuqing.errors import YuqingError
from yuqing.exports import KIND_NAMES, new_workbook, number, workbook_bytes, write_table
from yuqing.vocabulary import LABELS

RULE_NAMES = {"no_principal": "主要负责人未回应", "few_channels": "回应渠道不足", "no_follow_up": "无后续发布",
              "secondary_incident": "（引发次生舆情）", "past_due_at_reclassification": "改判前已超时",
              "referral_late": "逾期回复", "referral_overdue": "超期未复", "late": "逾期完成", "overdue": "已超时"}
REFERRAL_STATES = LABELS["REFERRAL"]


@dataclass(frozen=True)
class WindowEntry:
    incident_id: int
    title: str
    window: str
    state: str  # late | overdue
    due_at: datetime
    satisfied_at: datetime | None
    overdue_seconds: int
    flagged: bool
    past_due_at_reclassification: bool


@dataclass(frozen=True)
class ReferralEntry:
    referral: Referral
    state: str  # met | late | overdue | open
    title: str


@dataclass(frozen=True)
class RectificationEntry:
    """整改 due or done in the quarter; `answers` names the deductions or special items it answers."""

    id: int
    unit_code: str
    problem: str
    due_at: datetime
    done_at: datetime | None
    answers: tuple[str, ...] = ()
    created_at: datetime | None = None

    def state(self, now: datetime) -> str:
        if self.done_at is not None and self.done_at <= now:
            return "met" if self.done_at <= self.due_at else "late"
        return "open" if now <= self.due_at else "overdue"


RECTIFY_STATES = {"met": "按期完成", "late": "逾期完成", "open": "整改中", "overdue": "逾期未完成"}


@dataclass(frozen=True)
class BulletinUnit:
    unit: UnitRef
    new_incidents: int
    windows: tuple[WindowEntry, ...]
    referrals: tuple[ReferralEntry, ...]
    daily: tuple[DailyRecord, ...]
    specials: tuple[SpecialItem, ...]
    zeroings: tuple[Zeroing, ...]
    appeals: tuple[AppealDecision, ...]
    rectifications: tuple[RectificationEntry, ...] = ()

    @property
    def late(self) -> tuple[WindowEntry, ...]:
        return tuple(w for w in self.windows if w.state == "late")

    @property
    def overdue(self) -> tuple[WindowEntry, ...]:
        return tuple(w for w in self.windows if w.state == "overdue")

    @property
    def empty(self) -> bool:
        return not (self.windows or self.referrals or self.daily or self.specials or self.zeroings or self.appeals
                    or self.rectifications)


def quarter_bounds(year: int, quarter: int) -> tuple[datetime, datetime]:
    """[first day 00:00, first day of next quarter 00:00) Beijing time."""
    if isinstance(quarter, bool) or quarter not in (1, 2, 3, 4):
        raise YuqingError("E_QUARTER", value=quarter)
    start = datetime(year, 3 * quarter - 2, 1, tzinfo=BEIJING)
    end = datetime(year + 1, 1, 1, tzinfo=BEIJING) if quarter == 4 else datetime(year, 3 * quarter + 1, 1, tzinfo=BEIJING)
    return start, end


@dataclass(frozen=True)
class Bulletin:
    year: int
    quarter: int
    start: date
    end: date  # last day, inclusive
    generated_at: datetime
    scheme: str
    scheme_status: str
    audit_head: str | None
    units: tuple[BulletinUnit, ...]
    draft: bool = False
    special_names: tuple[tuple[str, str], ...] = ()  # scheme item code → its Chinese name
    audit_count: int | None = None  # records in the chain when the head was read (a checkpoint)

    @property
    def title(self) -> str:
        mark = "（征求意见稿）" if self.draft else ""
        return f"政务舆情处置情况通报（{self.year}年第{self.quarter}季度）{mark}"

    def special_name(self, code: str) -> str:
        return dict(self.special_names).get(code, code)

    def deduction_name(self, key: str) -> str:
        """A deduction key (`12:response:late`, `12:-:no_principal`, `12:referral-3:referral_late`,
        `12:secondary-14:secondary_incident`, `daily-5`) in words: 舆情 #12 回应逾期完成."""
        if key.startswith("daily-"):
            return f"日常考核记录 {key[len('daily-'):]}"
        parts = key.split(":")
        if len(parts) != 3 or not parts[0].isdigit():
            return key
        incident, middle, rule = parts
        what = WINDOW_NAMES.get(middle, "")
        if middle.startswith("referral-"):
            what = f"舆情函件 #{middle[len('referral-'):]}"
        elif middle.startswith("secondary-"):
            what = f"次生舆情 #{middle[len('secondary-'):]}"
        return f"舆情 #{incident} {what}{RULE_NAMES.get(rule, STATE_NAMES.get(rule, ''))}".strip()

    def to_markdown(self) -> str:
        lines = [f"# {self.title}", ""]
        lines.append(
            f"统计期间：{self.start.isoformat()} 至 {self.end.isoformat()}（北京时间）；"
            f"生成时间：{display_beijing(self.generated_at)}；评分方案：{self.scheme}"
            + ("（建议分值）" if self.scheme_status == "proposed" else "")
        )
        if self.audit_head:
            count = f"（共 {self.audit_count} 条记录）" if self.audit_count is not None else ""
            lines += ["", f"审计链头：`{self.audit_head}`{count}"]
        lines += ["", "## 概况", ""]
        lines.append("| 单位 | 类别 | 新增舆情 | 逾期完成 | 超时未完成 | 函件（逾期/超期） | 日常考核 | 特别项 | 申诉决定 |")
        lines.append("|---|---|---:|---:|---:|---:|---:|---:|---:|")
        for u in self.units:
            late_referrals = sum(1 for r in u.referrals if r.state in ("late", "overdue"))
            lines.append(
                f"| {_md(u.unit.name)} | {KIND_NAMES.get(u.unit.kind, u.unit.kind)} | {u.new_incidents} | {len(u.late)} "
                f"| {len(u.overdue)} | {len(u.referrals)}（{late_referrals}） | {number(sum(d.points for d in u.daily)) or '0'} "
                f"| {len(u.specials)} | {len(u.appeals)} |"
            )
        for u in self.units:
            if u.empty:
                continue
            lines += ["", f"## {_md(u.unit.name)}"]
            if u.windows:
                lines += ["", "### 逾期与超时", "", "| 舆情 | 时限 | 应完成时间 | 完成时间 | 状态 | 超时 |", "|---|---|---|---|---|---|"]
                for w in u.windows:
                    note = "（改判前已超时）" if w.past_due_at_reclassification else ""
                    flag = "〔重点〕" if w.flagged else ""
                    lines.append(
                        f"| #{w.incident_id} {flag}{_md(w.title)} | {WINDOW_NAMES.get(w.window, w.window)} | {display_beijing(w.due_at)} "
                        f"| {display_beijing(w.satisfied_at)} | {STATE_NAMES.get(w.state, w.state)}{note} | {duration(w.overdue_seconds)} |"
                    )
            if u.referrals:
                lines += ["", "### 舆情函件", "", "| 函件 | 舆情 | 发出 | 回复期限 | 回复 | 状态 |", "|---|---|---|---|---|---|"]
                for r in u.referrals:
                    lines.append(
                        f"| #{r.referral.id} | #{r.referral.incident_id} {_md(r.title)} | {display_beijing(r.referral.sent_at)} "
                        f"| {display_beijing(r.referral.due_at)} | {display_beijing(r.referral.replied_at)} | {REFERRAL_STATES[r.state]} |"
                    )
            if u.daily:
                lines += ["", "### 日常考核记录", "", "| 日期 | 分值 | 事由 |", "|---|---:|---|"]
                for d in u.daily:
                    lines.append(f"| {d.on.isoformat()} | {d.points:+g} | {_md(d.reason)} |")
            if u.specials or u.zeroings:
                lines += ["", "### 特别项", "", "| 日期 | 项目 | 分值 | 依据 |", "|---|---|---:|---|"]
                for s in u.specials:
                    lines.append(f"| {s.on.isoformat() if s.on else '未注明'} | {_md(self.special_name(s.item))} | {'' if s.points is None else number(s.points)} | {_md(s.evidence)} |")
                for z in u.zeroings:
                    lines.append(f"| {z.on.isoformat() if z.on else '未注明'} | 直接归零（弄虚作假） | — | {_md(z.evidence)} |")
            if u.appeals:
                lines += ["", "### 申诉决定", "", "| 决定时间 | 扣分项 | 结果 | 理由 |", "|---|---|---|---|"]
                for a in u.appeals:
                    lines.append(
                        f"| {display_beijing(a.decided_at)} | {_md(self.deduction_name(a.deduction_key))} | {'撤销扣分' if a.overturned else '维持扣分'} | {_md(a.reason)} |"
                    )
            if u.rectifications:
                lines += ["", "### 整改", "", "| 编号 | 问题 | 针对 | 整改期限 | 完成时间 | 状态 |", "|---|---|---|---|---|---|"]
                for rect in u.rectifications:
                    done = rect.done_at if rect.done_at is not None and rect.done_at <= self.generated_at else None
                    answers = "；".join(self.answer_name(k) for k in rect.answers) or "—"
                    lines.append(
                        f"| #{rect.id} | {_md(rect.problem)} | {_md(answers)} | {display_beijing(rect.due_at)} "
                        f"| {display_beijing(done)} | {RECTIFY_STATES[rect.state(self.generated_at)]} |"
                    )
        return "\n".join(lines) + "\n"

    def answer_name(self, key: str) -> str:
        if key.startswith("special-"):
            return f"特别项 #{key[len('special-'):]}"
        return self.deduction_name(key)

    def to_xlsx(self) -> bytes:
        book = new_workbook()
        write_table(
            book,
            "说明",
            ["项目", "内容"],
            [["通报", self.title], ["统计期间", f"{self.start.isoformat()} 至 {self.end.isoformat()}（北京时间）"],
             ["生成时间", self.generated_at], ["评分方案", self.scheme], ["审计链头", self.audit_head or ""],
             ["审计链条数", "" if self.audit_count is None else self.audit_count]],
            widths={1: 12, 2: 70},
        )
        write_table(
            book,
            "概况",
            ["单位代码", "单位", "类别", "新增舆情", "逾期完成", "超时未完成", "函件", "函件逾期或超期", "日常考核", "特别项", "申诉决定"],
            [[u.unit.code, u.unit.name, KIND_NAMES.get(u.unit.kind, u.unit.kind), u.new_incidents, len(u.late), len(u.overdue),
              len(u.referrals), sum(1 for r in u.referrals if r.state in ("late", "overdue")),
              sum(d.points for d in u.daily), len(u.specials), len(u.appeals)] for u in self.units],
            widths={2: 30},
        )
        write_table(
            book,
            "逾期与超时",
            ["单位", "舆情编号", "标题", "重点舆情", "时限", "应完成时间", "完成时间", "状态", "超时（小时）", "改判前已超时"],
            [[u.unit.name, w.incident_id, w.title, w.flagged, WINDOW_NAMES.get(w.window, w.window), w.due_at, w.satisfied_at,
              STATE_NAMES.get(w.state, w.state), round(w.overdue_seconds / 3600, 2), w.past_due_at_reclassification]
             for u in self.units for w in u.windows],
            widths={1: 24, 3: 40, 6: 20, 7: 20},
        )
        write_table(
            book,
            "舆情函件",
            ["单位", "函件编号", "舆情编号", "舆情", "发出时间", "回复期限", "回复时间", "状态"],
            [[u.unit.name, r.referral.id, r.referral.incident_id, r.title, r.referral.sent_at, r.referral.due_at,
              r.referral.replied_at, REFERRAL_STATES[r.state]] for u in self.units for r in u.referrals],
            widths={1: 24, 4: 40, 5: 20, 6: 20, 7: 20},
        )
        write_table(
            book,
            "日常考核",
            ["单位", "日期", "分值", "指标", "事由"],
            [[u.unit.name, d.on.isoformat(), d.points, d.indicator or "", d.reason] for u in self.units for d in u.daily],
            widths={1: 24, 5: 60},
        )
        write_table(
            book,
            "特别项",
            ["单位", "日期", "项目", "分值", "依据"],
            [[u.unit.name, s.on.isoformat() if s.on else "", self.special_name(s.item), s.points, s.evidence]
             for u in self.units for s in u.specials]
            + [[u.unit.name, z.on.isoformat() if z.on else "", "直接归零", None, z.evidence] for u in self.units for z in u.zeroings],
            widths={1: 24, 5: 60},
        )
        write_table(
            book,
            "申诉决定",
            ["单位", "决定时间", "扣分项", "结果", "理由"],
            [[u.unit.name, a.decided_at, self.deduction_name(a.deduction_key), "撤销扣分" if a.overturned else "维持扣分", a.reason]
             for u in self.units for a in u.appeals],
            widths={1: 24, 2: 20, 3: 30, 5: 60},
        )
        write_table(
            book,
            "整改",
            ["单位", "编号", "问题", "针对", "整改期限", "完成时间", "状态"],
            [[u.unit.name, r.id, r.problem, "；".join(self.answer_name(k) for k in r.answers), r.due_at,
              r.done_at if r.done_at is not None and r.done_at <= self.generated_at else None,
              RECTIFY_STATES[r.state(self.generated_at)]] for u in self.units for r in u.rectifications],
            widths={1: 24, 3: 40, 4: 30, 5: 20, 6: 20},
        )
        return workbook_bytes(book)


def _md(text: str) -> str:
    return (text or "").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def bulletin(
    year: int,
    quarter: int,
    *,
    scheme: Scheme,
    units: Sequence[UnitRef],
    incidents: Sequence[ScoredIncident] = (),
    referrals: Sequence[Referral] = (),
    daily: Sequence[DailyRecord] = (),
    specials: Sequence[SpecialItem] = (),
    zeroings: Sequence[Zeroing] = (),
    appeals: Sequence[AppealDecision] = (),
    rectifications: Sequence[RectificationEntry] = (),
    now: datetime,
    audit_head: str | None = None,
    audit_count: int | None = None,
    draft: bool = False,
) -> Bulletin:
    """What was recorded for each unit in `quarter` of `year`, as of `now`. A window is recorded in the
    quarter its deadline fell in (Beijing time); windows are attributed to units as the scheme counts
    them; undated special items and zeroings of the year appear in the fourth quarter. Nothing dated
    after `now` appears: a reply after it is not yet known, a record after it not yet made."""
    require_aware(now, "now")
    today = now.astimezone(BEIJING).date()
    bounds = quarter_bounds(year, quarter)
    by_code = {u.code: u for u in units}
    windows: dict[str, list[WindowEntry]] = {u.code: [] for u in units}
    new: dict[str, int] = {u.code: 0 for u in units}
    titles = {i.id: i.title for i in incidents}
    voided = {i.id for i in incidents if i.voided}
    for incident in incidents:
        if incident.voided:
            continue
        codes = [code for code, _ in attribution(incident, scheme) if code in by_code]
        if within(incident.started_at, bounds) and incident.started_at <= now:
            for code in codes:
                new[code] += 1
        for w in incident.verdict.windows:
            if w.state not in ("late", "overdue") or w.due_at is None or not within(w.due_at, bounds):
                continue
            entry = WindowEntry(incident.id, incident.title, w.key, w.state, w.due_at, w.satisfied_at,
                                w.overdue_seconds or 0, incident.flagged, w.past_due_at_reclassification)
            # The window counts for the unit that led when it fell due (a later transfer keeps it there).
            lead = incident.window_unit(w)
            for code in dict.fromkeys([lead, *codes[1:]]):
                if code in windows:
                    windows[code].append(entry)

    referral_entries: dict[str, list[ReferralEntry]] = {u.code: [] for u in units}
    for r in referrals:
        if r.unit_code not in by_code or r.incident_id in voided or not within(r.sent_at, bounds) or r.sent_at > now:
            continue
        if r.replied_at is not None and r.replied_at > now:
            r = replace(r, replied_at=None)
        referral_entries[r.unit_code].append(ReferralEntry(r, referral_state(r, now), titles.get(r.incident_id, "")))

    def in_quarter(day: date | None) -> bool:
        # Dated records go to their quarter; undated records of the year (special items, zeroings) to Q4.
        return quarter == 4 if day is None else bounds[0].date() <= day < bounds[1].date() and day <= today

    by_unit_daily: dict[str, list[DailyRecord]] = defaultdict(list)
    for d in daily:
        if in_quarter(d.on):
            by_unit_daily[d.unit_code].append(d)
    by_unit_specials: dict[str, list[SpecialItem]] = defaultdict(list)
    for s in specials:
        if s.year == year and in_quarter(s.on):
            by_unit_specials[s.unit_code].append(s)
    by_unit_zeroings: dict[str, list[Zeroing]] = defaultdict(list)
    for z in zeroings:
        if z.year == year and in_quarter(z.on):
            by_unit_zeroings[z.unit_code].append(z)
    by_unit_appeals: dict[str, list[AppealDecision]] = defaultdict(list)
    for a in appeals:
        if within(a.decided_at, bounds) and a.decided_at <= now:
            by_unit_appeals[a.unit_code].append(a)

    by_unit_rectifications: dict[str, list[RectificationEntry]] = defaultdict(list)
    for rect in rectifications:
        # Due in the quarter, or done in it (as of `now`); one set after `now` is not yet known.
        if rect.created_at is not None and rect.created_at > now:
            continue
        done_here = rect.done_at is not None and rect.done_at <= now and within(rect.done_at, bounds)
        if within(rect.due_at, bounds) or done_here:
            by_unit_rectifications[rect.unit_code].append(rect)

    result: list[BulletinUnit] = []
    for unit in units:
        code = unit.code
        unit_windows = sorted(windows[code], key=lambda w: (w.due_at, w.incident_id, w.window))
        unit_daily = tuple(sorted(by_unit_daily.get(code, []), key=lambda d: d.on))
        unit_specials = tuple(by_unit_specials.get(code, []))
        unit_zeroings = tuple(by_unit_zeroings.get(code, []))
        unit_appeals = tuple(sorted(by_unit_appeals.get(code, []), key=lambda a: a.decided_at))
        record = BulletinUnit(unit, new[code], tuple(unit_windows), tuple(sorted(referral_entries[code], key=lambda e: e.referral.sent_at)),
                             unit_daily, unit_specials, unit_zeroings, unit_appeals,
                             tuple(sorted(by_unit_rectifications.get(code, []), key=lambda r: (r.due_at, r.id))))
        if not unit.active and record.empty and not record.new_incidents:
            continue
        result.append(record)
    start, end = bounds
    return Bulletin(
        year=year,
        quarter=quarter,
        start=start.date(),
        end=(end - timedelta(days=1)).date(),
        generated_at=now,
        scheme=scheme.name,
        scheme_status=scheme.status,
        audit_head=audit_head,
        audit_count=audit_count,
        units=tuple(result),
        draft=draft,
        special_names=tuple((d.code, d.name) for d in scheme.specials),
    )
