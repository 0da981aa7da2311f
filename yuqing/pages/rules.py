"""规则与方案: the active window preset and a year's scoring scheme, read-only, each rule with where it
comes from; for admins, the accounts (add, disable) and the alert routes (without secrets)."""
from __future__ import annotations

import streamlit as st

from scoring.scheme import available_schemes, load_scheme
from timeline.clock import display_beijing
from timeline.model import ACTION_KIND_NAMES, WINDOW_NAMES
from timeline.presets import load_preset
from yuqing.db.accounts import ROLE_NAMES, ROLES, add_user, disable_user
from yuqing.db.office_rules import office_preset, office_scheme, office_schemes, preset_choices
from yuqing.errors import YuqingError
from yuqing.pages import common

OUTCOME = "rules_outcome"
SOURCE_NAMES = {
    "manual": "人工评分", "timeliness": "系统计算：回应时效", "authority": "系统计算：主要负责人回应",
    "coverage": "系统计算：回应渠道", "continuity": "系统计算：持续回应", "daily_monitoring": "系统计算：日常考核记录",
    "referrals": "系统计算：舆情函件",
}
ANCHOR_NAMES = {"earliest_seen": "首次发现时间（网上首发与发现/接报中较早者）", "first_post": "网上首发时间",
                "detected": "发现/接报时间", "logged": "登记时间"}


def preset_block(name: str, *, active: bool) -> None:
    preset = load_preset(name)
    st.markdown(f"**{preset.title}**（`{preset.name}`）{' :green-badge[当前使用]' if active else ''}")
    st.caption(f"依据：{preset.source}")
    flagged = preset.flagged
    levels = "、".join(flagged.levels)
    if flagged.rule == "any":
        rule = f"级别为{levels}，或属于突发事件" if flagged.sudden else f"级别为{levels}"
    else:
        rule = f"级别为{levels}的突发事件" if flagged.sudden else f"级别为{levels}"
    st.markdown(f"开始计时：{ANCHOR_NAMES.get(preset.anchor, preset.anchor)}；重点舆情：{rule}。")
    st.dataframe(
        [
            {
                "时限": WINDOW_NAMES[w.key],
                "时长（小时）": w.hours,
                "适用": "所有舆情" if w.applies_to == "all" else "重点舆情",
                "完成方式": "、".join(ACTION_KIND_NAMES[k] for k in w.satisfied_by),
                "提前预警（小时）": w.at_risk_hours,
                "原文": w.source,
            }
            for w in preset.windows
        ],
        hide_index=True,
        key=f"preset_{name}",
    )


def holidays_block() -> None:
    """Which years the working-day calendar knows; from November, a warning when next year is missing."""
    from yuqing.db.holidays import known_years

    known = common.database().run(known_years)
    first, last = known.package
    st.markdown(common.text("DASH_HOLIDAY_YEARS", package=f"{first}–{last}",
                            file="、".join(map(str, known.file_years)) or "无",
                            imported="、".join(map(str, known.imported)) or "无"))
    missing = known.missing_next_year(common.now())
    if missing is not None:
        st.warning(common.text("DASH_HOLIDAY_MISSING", year=missing))


def scheme_block(year: int) -> None:
    try:
        scheme = common.database().read(office_scheme, year)
    except YuqingError as exc:
        st.error(common.refusal(exc))
        return
    status = ":orange-badge[建议分值，未经审定]" if scheme.status == "proposed" else ":green-badge[已审定]"
    st.markdown(f"**{scheme.title}**（`{scheme.name}`，{scheme.first_year} 年起适用） {status}")
    st.caption(f"依据：{scheme.source}")
    if scheme.note:
        st.warning(scheme.note)
    sections = {s.code: s.name for s in scheme.sections}
    kinds = {"department": "市政府各部门（附件2）", "county": "县（市、区）政府及示范区、开发区（附件3）"}
    for kind, tab in zip(scheme.trees, st.tabs([kinds.get(k, k) for k in scheme.trees], key=f"scheme_tabs_{year}")):
        tree = scheme.tree(kind)
        with tab:
            st.caption(tree.title)
            st.dataframe(
                [
                    {
                        "内容": sections.get(i.section, i.section),
                        "指标": i.name,
                        "代码": i.code,
                        "分值": i.points,
                        "计分方式": SOURCE_NAMES.get(i.source, i.source),
                        "扣分标准": "；".join(f"{k}={v}" for k, v in i.params.items()),
                        "原文考核要点": "；".join(i.criteria),
                    }
                    for i in tree.indicators
                ],
                hide_index=True,
                key=f"scheme_{year}_{kind}",
            )
    c1, c2 = st.columns(2)
    with c1:
        st.markdown("**特别加分项 / 特别减分项**（在 100 分之外，计入总分）")
        st.dataframe(
            [{"类型": "加分" if s.kind == "bonus" else "减分", "项目": s.name, "每项分值": s.points,
              "上限": "—" if s.cap is None else f"{s.cap:g}"} for s in scheme.specials],
            hide_index=True, key=f"specials_{year}",
        )
    with c2:
        st.markdown("**等次**（第十二条）")
        st.dataframe([{"等次": g.name, "最低分": "—" if g.min is None else f"{g.min:g}"} for g in scheme.grades],
                     hide_index=True, key=f"grades_{year}")
        st.markdown(f"**直接归零**（第十六条）：{scheme.zeroing.name} → 得分 0，等次 {scheme.zeroing.grade}")


def classify_report_block(this_year: int) -> None:
    """How far to trust the classifier: the table of `yuqing classify report`, from the same query."""
    from classify.ruleset import rules_version
    from yuqing.db.agreement import classify_report, report_title, table_rows

    years: list[int | None] = [None, *range(this_year, this_year - 5, -1)]
    year = st.columns([1, 3])[0].selectbox(
        "登记年度", options=years, key="classify_report_year",
        format_func=lambda y: common.text("REPORT_ALL_YEARS") if y is None else str(y),
    )
    report = common.database().read(classify_report, rules_version=rules_version(), year=year)
    st.markdown(report_title(report))
    st.dataframe(table_rows(report), hide_index=True, key="classify_report_table")
    if report.other_versions:
        st.caption(common.text("REPORT_OTHER_VERSIONS", count=report.other_versions))
    st.caption(common.text("REPORT_NOTE"))


def do_add_user() -> None:
    s = st.session_state
    if s.get("user_password") != s.get("user_password2"):
        s[OUTCOME] = ("error", common.text("E_PASSWORD_MISMATCH"))
        return
    outcome = common.write(lambda w: add_user(w, s["user_name"], role=s["user_role"], unit=s.get("user_unit"),
                                              password=s["user_password"]).name)
    if outcome.ok:
        s[OUTCOME] = ("ok", common.text("DASH_USER_ADDED", name=outcome.value))
        s["user_name"] = s["user_password"] = s["user_password2"] = ""
    else:
        s[OUTCOME] = ("error", outcome.error)


def do_disable_user(name: str) -> None:
    outcome = common.write(lambda w: disable_user(w, name))
    st.session_state[OUTCOME] = ("ok", common.text("DASH_USER_DISABLED", name=name)) if outcome.ok \
        else ("error", outcome.error)


def users_block() -> None:
    users = common.users()
    st.dataframe(
        [
            {"账号": u.name, "角色": ROLE_NAMES.get(u.role, u.role), "单位": u.unit_name or "",
             "状态": "正常" if u.active else "已停用", "上次登录": display_beijing(u.last_login_at)}
            for u in users
        ],
        hide_index=True, key="users_table",
    )
    active = [u.name for u in users if u.active]
    if active:
        cols = st.columns([3, 1], vertical_alignment="bottom")
        picked = cols[0].selectbox("停用账号", options=active, index=None, key="user_disable_pick", placeholder="选择账号")
        cols[1].button("停用", key="user_disable", on_click=do_disable_user, args=(picked,), disabled=picked is None)
    units = {u.code: u.name for u in common.units()}
    with st.form("user_add"):
        st.markdown("**新建账号**")
        c1, c2, c3 = st.columns(3)
        c1.text_input("账号名", key="user_name")
        c2.selectbox("角色", options=list(ROLES), key="user_role", format_func=lambda value: str(ROLE_NAMES.get(value, value)))
        c3.selectbox("所属单位（单位工作人员必填）", options=list(units), index=None, key="user_unit",
                     format_func=lambda value: str(units.get(value, value)), placeholder="—")
        c1, c2 = st.columns(2)
        c1.text_input("密码（至少 8 个字符）", type="password", key="user_password")
        c2.text_input("再输入一次", type="password", key="user_password2")
        st.form_submit_button("创建账号", on_click=do_add_user, key="user_add_submit")


def routes_block() -> None:
    path = getattr(common.config(), "alert_routes", None)
    if not path:
        st.caption(common.text("DASH_ROUTES_NONE"))
        return
    from yuqing.alerts.channels import redacted_url
    from yuqing.alerts.routes import load_routes

    try:
        routes = load_routes(path, unit_codes={u.code for u in common.units()})
    except YuqingError as exc:
        st.error(common.refusal(exc))
        return
    units = {u.code: u.name for u in common.units()}
    st.caption(f"告警路由文件：{routes.path}（令牌和密钥不在此显示）")
    st.dataframe(
        [{"渠道": c.name, "类型": c.kind, "地址": redacted_url(c.url), "关键词": c.keyword or "", "超时（秒）": c.timeout}
         for c in routes.channels],
        hide_index=True, key="routes_channels",
    )
    st.dataframe(
        [
            {"单位": "、".join("全部单位" if u == "*" else units.get(u, u) for u in r.units),
             "渠道": "、".join(r.channels), "提醒类型": "、".join(r.kinds), "只提醒重点舆情": "是" if r.flagged_only else ""}
            for r in routes.routes
        ],
        hide_index=True, key="routes_routes",
    )
    st.markdown(f"未被路由覆盖的单位和信息源告警发送至：{'、'.join(routes.office) or '—'}")
    if routes.quiet is not None:
        st.markdown(f"免打扰时段：{routes.quiet.start:%H:%M}–{routes.quiet.end:%H:%M}（北京时间，普通舆情提醒顺延）")


st.title("规则与方案")

if common.guard():
    who = common.actor()
    common.show_outcome(OUTCOME)
    # The office's own choice (yuqing offices preset), else the installation's setting.
    active = common.database().read(office_preset, common.config().preset)
    st.header("回应时限")
    preset_block(active, active=True)
    # The shipped presets and the office's own files (yuqing offices preset FILE.toml).
    others = [p for p in common.database().read(preset_choices) if p != active]
    if others:
        with st.expander("其他可用的时限规则（考核办管理员用 yuqing offices preset 切换，只影响之后登记的舆情）"):
            for name in others:
                preset_block(name, active=False)
    st.header("节假日安排（函件工作日）")
    holidays_block()
    st.header("考核评分方案")
    this_year = int(display_beijing(common.now())[:4])
    schemes = [load_scheme(n) for n in available_schemes()] + common.database().read(office_schemes)
    first = min((s.first_year for s in schemes), default=this_year)
    year = st.columns([1, 3])[0].selectbox("考核年度", options=list(range(this_year, first - 1, -1)), key="rules_year")
    scheme_block(int(year))
    st.header("分类建议的可信度")
    classify_report_block(this_year)
    if common.is_admin(who):
        st.header("账号")
        users_block()
        st.header("告警路由")
        routes_block()
