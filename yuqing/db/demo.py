"""Demo data for `yuqing init --demo`: a realistic mix whose open clocks run relative to `now`."""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from classify.units import load_units_file
from yuqing.db.feeds import add_feed
from yuqing.db.incidents import count_incidents
from yuqing.db.models import Meta
from yuqing.db.service import NewAction, NewIncident, Writer

H = timedelta(hours=1)
BACKFILL = "演示数据：补录历史处置"
DEMO_PASSWORD = "yuqing-demo"
# (account, role, unit, what it is for) — printed by `yuqing init --demo`; for trying the product only.
DEMO_ACCOUNTS = (
    ("admin", "admin", None, "市政务公开办管理员"),
    ("lingbao", "staff", "灵宝市", "灵宝市工作人员"),
    ("leader", "viewer", None, "领导（只读）"),
)


def load_demo_accounts(writer: Writer) -> None:
    from yuqing.db.accounts import add_user

    for name, role, unit, _ in DEMO_ACCOUNTS:
        add_user(writer, name, role=role, unit=unit, password=DEMO_PASSWORD)


def load_demo(writer: Writer) -> list[int]:
    """Create the demo incidents through the write service (so they are audited like any other)."""
    now = writer.now
    ids: list[int] = []

    def add(title: str, unit: str, started: timedelta, **kw: object) -> int:
        new = NewIncident(title=title, unit=unit, first_post_at=now - started, detected_at=now - started + 0.25 * H,
                          classify=False, **kw)  # type: ignore[arg-type]  # demo rows pass keyword fields of NewIncident
        incident_id = writer.add_incident(new).id
        ids.append(incident_id)
        return incident_id

    def act(incident_id: int, kind: str, at: datetime, **kw: object) -> None:
        reason = BACKFILL if at < now - timedelta(hours=48) else None
        writer.record_action(incident_id, NewAction(kind=kind, at=at, reason=reason, **kw))  # type: ignore[arg-type]  # demo rows pass keyword fields of NewAction

    # Open, flagged: a sudden accident; the 5-hour release window runs out in about two hours.
    gas = add("渑池县某小区燃气泄漏引发爆燃，已致2人受伤", "渑池县", 3 * H, level="较大", sudden=True,
              category="事故灾难", summary="网民发帖称小区发生燃气爆燃，现场浓烟，多人围观。",
              source_url="https://weibo.example/post/1001")
    act(gas, "response", now - 2 * H, channels=("weibo",), note="县应急管理局官方微博发布初步情况")

    # Open, flagged, at risk: 30 minutes left to release authoritative information.
    flood = add("灵宝市突降暴雨，部分村庄被淹，网传有人员被困", "灵宝市", 4.5 * H, level="较大", sudden=True,
                category="自然灾害", co_units=("市水利局",))
    act(flood, "response", now - 3.5 * H, channels=("wechat", "weibo"))

    # Open, ordinary, at risk: 3 hours left to respond.
    add("网民反映湖滨区某小区冬季供暖不热，多次投诉无果", "市住房城乡建设局", 21 * H, summary="12345 热线转来投诉 6 件。")

    # Open, ordinary, overdue: no response 30 hours in.
    add("网传陕州区某学校食堂食材过期，家长质疑监管", "陕州区", 30 * H, category="公共卫生事件", sudden=False)

    # Open, just logged: a livelihood complaint.
    add("卢氏县部分农民工反映工资被拖欠，聚集讨薪", "卢氏县", 1 * H, category="社会安全事件", sudden=False,
        co_units=("市人社局",))

    # Reclassified 一般 → 重大 six hours in: the 5-hour release window was already past due.
    chem = add("义马市化工园区异味扰民，网民称有人晕倒就医", "义马市", 8 * H, level="一般", sudden=False,
               category="事故灾难")
    act(chem, "response", now - 7 * H, channels=("website",))
    writer.reclassify(chem, level="重大", sudden=True,
                      reason="核实有12人送医观察，属突发环境事件，按重大级别处置")

    # Closed, all met: a major accident handled by the book.
    bus = add("开发区一客车与货车相撞，已致3人死亡", "开发区", 10 * 24 * H, level="较大", sudden=True,
              category="事故灾难", co_units=("市公安局", "市应急管理局"))
    start = now - 10 * 24 * H
    act(bus, "release", start + 2.5 * H, channels=("weibo", "wechat", "website"), by_principal=True,
        evidence_url="https://www.smx.gov.cn/demo/notice-1")
    act(bus, "press_conference", start + 20 * H, channels=("press", "tv_radio"), by_principal=True)
    act(bus, "follow_up", start + 48 * H, channels=("website",))
    writer.close(bus, at=start + 72 * H)

    # Closed, late: responded after 30 hours.
    rent = add("市民质疑公租房分配不公，网帖转发量过万", "市住房城乡建设局", 20 * 24 * H)
    act(rent, "response", now - 20 * 24 * H + 30 * H, channels=("website", "news_site"))
    writer.close(rent, at=now - 18 * 24 * H)

    # Flagged, release late, press conference never held.
    food = add("示范区某幼儿园多名儿童呕吐腹泻，疑似食物中毒", "示范区", 6 * 24 * H, level="较大", sudden=True,
               category="公共卫生事件", co_units=("市卫健委", "市市场监管局"))
    start = now - 6 * 24 * H
    act(food, "response", start + 2 * H, channels=("wechat",))
    act(food, "release", start + 7 * H, channels=("website", "weibo"))

    # Secondary incident (次生舆情) of the food incident.
    add("家长质疑幼儿园食物中毒通报避重就轻", "示范区", 5 * 24 * H, parent_id=food, sudden=False,
        category="公共卫生事件")

    # Transferred to the responsible department; the clock kept running.
    road = add("网民反映市区某路段井盖缺失多日", "湖滨区", 12 * H)
    writer.transfer(road, unit="市城管局", reason="属城市管理部门职责")
    act(road, "response", now - 2 * H, channels=("weibo",))

    # Voided duplicate.
    dup = add("渑池县小区燃气爆燃（重复登记）", "渑池县", 3 * H)
    writer.void(dup, reason=f"重复：与舆情 {gas} 为同一事件")
    load_demo_manual_scores(writer)
    return ids


def load_demo_manual_scores(writer: Writer) -> int:
    """The 考核组's manual indicators for the demo's year, so its ranking, grades and bulletin look like
    a real year's: each unit gets a steady share of every indicator's points (62 %–99 %, fixed per unit
    and indicator so reruns agree), entered as one import with one audit record."""
    import zlib

    from sqlalchemy import select

    from scoring.scheme import load_scheme
    from timeline.clock import to_beijing
    from yuqing.db.models import Unit
    from yuqing.db.scoring_writes import import_manual_scores

    year = to_beijing(writer.now).year
    scheme = load_scheme(year)
    rows: list[list[object]] = [["unit", "indicator", "points", "note"]]
    for unit in writer.session.scalars(select(Unit).where(Unit.active.is_(True)).order_by(Unit.code)):
        if unit.kind not in ("department", "county"):
            continue
        for indicator in scheme.tree(unit.kind).indicators:
            if indicator.computed:
                continue
            share = 0.62 + (zlib.crc32(f"{unit.code}:{indicator.code}".encode()) % 38) / 100
            points = min(indicator.points, round(indicator.points * share * 2) / 2)
            rows.append([unit.code, indicator.code, points, "演示数据：考核组评分"])
    return import_manual_scores(writer, rows, year=year, path="演示数据")


# Items for the triage queue of the demo: what a local news feed and a message board carried lately.
DEMO_FEED_ITEMS = (
    (0.5, "渑池县某小区燃气爆燃事故救援进展：2名伤者已送医", "渑池县城区某小区发生燃气爆燃，已致2人受伤，伤者已送医救治，燃气公司正在排查管线。"),
    (0.8, "网友：渑池一小区突发爆燃，现场浓烟滚滚", "有网友发帖称渑池县一小区发生燃气爆燃，现场浓烟滚滚，已致2人受伤。"),
    (1.5, "卢氏县山区突降暴雨，一村庄道路被冲毁", "卢氏县部分山区突降暴雨引发山洪，一村庄道路被冲毁，暂无人员伤亡报告。"),
    (2.0, "网传义马市自来水有异味，市民质疑水质", "多名网友反映义马市部分小区自来水有异味，质疑水质安全，要求相关部门回应。"),
    (3.0, "陕州区多名农民工反映工资被拖欠半年", "陕州区某工地多名农民工反映工资被拖欠半年，多次讨薪无果，希望有关部门介入。"),
    (5.0, "三门峡市召开全市安全生产工作会议", "三门峡市召开全市安全生产工作会议，部署冬季安全生产和森林防火工作。"),
    (6.0, "灵宝市举行地震应急演练", "灵宝市在多所学校举行地震应急疏散演练，提高师生应急避险能力。"),
)


def write_demo_feed(path: Path, now: datetime) -> None:
    """An RSS file whose items were published in the last hours (relative to `now`)."""
    from email.utils import format_datetime
    from html import escape

    items = "".join(
        f"<item><guid>demo-{i}</guid><title>{escape(title)}</title><link>https://demo.example.cn/news/{i}</link>"
        f"<description>{escape(text)}</description><pubDate>{format_datetime(now - timedelta(hours=hours_ago))}</pubDate></item>"
        for i, (hours_ago, title, text) in enumerate(DEMO_FEED_ITEMS)
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>三门峡本地资讯（演示）</title>'
        f"<link>https://demo.example.cn/</link>{items}</channel></rss>",
        encoding="utf-8",
    )


def sync_registry(writer: Writer, units_file: Path) -> tuple[str, int, int]:
    """Load the unit registry file into the units table: (version, added, updated)."""
    version, refs = load_units_file(units_file)
    added, updated = writer.sync_units(refs)
    return version, added, updated


def load_demo_once(writer: Writer) -> list[int] | str:
    """The demo incidents and accounts, once: their ids, or the code saying why nothing was added."""
    session = writer.session
    if session.get(Meta, "demo_loaded") is not None:
        return "CLI_DEMO_PRESENT"
    if count_incidents(session) > 0:
        return "CLI_DEMO_NOT_EMPTY"
    ids = load_demo(writer)
    load_demo_accounts(writer)
    session.add(Meta(key="demo_loaded", value=writer.now.isoformat()))
    return ids


def add_demo_feed(writer: Writer, data_dir: Path) -> int:
    """Write the demo feed file (recent items for the triage queue) and register it: its feed id."""
    feed_path = data_dir / "demo" / "demo-feed.xml"
    write_demo_feed(feed_path, writer.now)
    return add_feed(writer, str(feed_path), name="三门峡本地资讯（演示）", interval_s=3600).id
