"""The quarterly 通报 (第十条) and the 通报批评 of a zeroed unit (第十六条) as 公文 (docx)."""
from __future__ import annotations

from datetime import date

from timeline.clock import display_beijing, to_beijing
from timeline.model import STATE_NAMES, WINDOW_NAMES
from yuqing.bulletin import Bulletin, BulletinUnit
from yuqing.documents.gongwen import SIZE_WU, Gongwen, chinese_date
from yuqing.errors import YuqingError
from yuqing.exports import KIND_NAMES, number
from yuqing.vocabulary import render


def _period(b: Bulletin) -> str:
    return f"{chinese_date(b.start)}至{chinese_date(b.end)}"


def issued_on(b: Bulletin) -> date:
    return to_beijing(b.generated_at).date()


def bulletin_docx(b: Bulletin, *, office: str, doc_number: str | None = None) -> bytes:
    """通报: overview per unit, every late or overdue window, referrals late, zeroings, requirements."""
    doc = Gongwen()
    doc.head(office, doc_number)
    doc.title(f"关于{b.year}年第{b.quarter}季度政务舆情回应处置情况的通报")
    doc.addressee(render("DOC_ADDRESSEE"))
    units = list(b.units)
    new = sum(u.new_incidents for u in units)
    late = sum(len(u.late) for u in units)
    overdue = sum(len(u.overdue) for u in units)
    referrals = sum(len(u.referrals) for u in units)
    referrals_late = sum(1 for u in units for r in u.referrals if r.state in ("late", "overdue"))
    doc.text(render("DOC_BULLETIN_OPENING", period=_period(b)))
    doc.heading("一、总体情况")
    doc.text(render("DOC_BULLETIN_TOTALS", new=new, late=late, overdue=overdue, referrals=referrals,
                    referrals_late=referrals_late))
    header = ["序号", "单位", "类别", "新增舆情", "逾期完成", "超时未完成", "舆情函件（逾期）", "日常考核"]
    rows = []
    for n, u in enumerate(units, start=1):
        late_refs = sum(1 for r in u.referrals if r.state in ("late", "overdue"))
        rows.append([n, u.unit.name, KIND_NAMES.get(u.unit.kind, u.unit.kind), u.new_incidents, len(u.late),
                     len(u.overdue), f"{len(u.referrals)}（{late_refs}）", number(sum(d.points for d in u.daily)) or "0"])
    doc.table(header, rows, widths=(12, 54, 26, 12, 12, 12, 16, 12), size=SIZE_WU)
    doc.heading("二、逾期与超时情况")
    windows = [(u, w) for u in units for w in u.windows]
    if windows:
        doc.table(["单位", "舆情", "时限", "应完成时间", "状态"],
                  [[u.unit.name, f"#{w.incident_id} {'〔重点〕' if w.flagged else ''}{w.title}", WINDOW_NAMES.get(w.window, w.window),
                    display_beijing(w.due_at), STATE_NAMES.get(w.state, w.state)] for u, w in windows],
                  widths=(40, 56, 18, 26, 16), size=SIZE_WU)
    else:
        doc.text(render("DOC_BULLETIN_NO_WINDOWS"))
    zeroed = [(u, z) for u in units for z in u.zeroings]
    if zeroed:
        doc.heading("三、通报批评")
        for u, z in zeroed:
            doc.text(render("DOC_CRITICISM_LINE", unit=u.unit.name, evidence=z.evidence))
    doc.heading(f"{'四' if zeroed else '三'}、工作要求")
    doc.text(render("DOC_BULLETIN_REQUIREMENTS"))
    day = issued_on(b)
    doc.signature(office, day)
    doc.imprint(office, day)
    return doc.to_bytes()


def criticism_docx(b: Bulletin, unit: BulletinUnit, *, office: str, doc_number: str | None = None) -> bytes:
    """通报批评 (第十六条) of one unit whose score was zeroed for falsification in the bulletin's quarter."""
    if not unit.zeroings:
        raise YuqingError("E_CRITICISM_NONE", unit=unit.unit.name, year=b.year, quarter=b.quarter)
    doc = Gongwen()
    doc.head(office, doc_number)
    doc.title(f"关于对{unit.unit.name}弄虚作假问题的通报批评")
    doc.addressee(render("DOC_ADDRESSEE"))
    for z in unit.zeroings:
        found = chinese_date(z.on) if z.on else f"{b.year}年"
        doc.text(render("DOC_CRITICISM_BODY", unit=unit.unit.name, on=found, evidence=z.evidence, year=b.year))
    doc.text(render("DOC_CRITICISM_REQUIREMENTS", unit=unit.unit.name))
    day = issued_on(b)
    doc.signature(office, day)
    doc.imprint(office, day)
    return doc.to_bytes()
