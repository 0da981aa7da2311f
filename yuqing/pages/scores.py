"""单位考核: a year's per-unit scores — ranking, a chart per indicator, each unit's deductions with their
incidents, appeals (units file, the office decides), rectification, downloads and the quarterly bulletin.
Everything is computed by `yuqing.db.scoring_reads` exactly as `yuqing score` / `yuqing bulletin` do."""
from __future__ import annotations

import streamlit as st

from timeline.clock import display_beijing
from yuqing.db.appeals import add_appeal, add_rectification, decide_appeal, finish_rectification
from yuqing.db.service import Actor
from yuqing.errors import YuqingError
from yuqing.exports import rule_name
from yuqing.pages import charts, common, scorecards
from yuqing.vocabulary import LABELS, label

OUTCOME = "scores_outcome"
DECISIONS = {None: label("APPEAL", "pending"), "uphold": label("APPEAL", "uphold"), "overturn": label("APPEAL", "overturn")}


def _done(outcome: common.Outcome, ok_code: str, **params: object) -> bool:
    st.session_state[OUTCOME] = ("ok", common.text(ok_code, **params)) if outcome.ok else ("error", outcome.error)
    return outcome.ok


def do_appeal(unit_code: str) -> None:
    s = st.session_state
    key, reason = s.get("appeal_key"), s.get("appeal_reason")
    if not key:
        s[OUTCOME] = ("error", common.text("E_DASH_PICK_DEDUCTION"))
        return
    if _done(common.write(lambda w: add_appeal(w, key, reason=reason or "", unit=unit_code).id), "DASH_APPEAL_FILED"):
        s["appeal_reason"] = ""


def do_decide(appeal_id: int, overturn: bool) -> None:
    reason = st.session_state.get(f"decide_reason_{appeal_id}")
    _done(common.write(lambda w: decide_appeal(w, appeal_id, overturn=overturn, reason=reason or "").id),
          "DASH_APPEAL_DECIDED", id=appeal_id, decision=DECISIONS["overturn" if overturn else "uphold"])


def do_rectify_add(year: int) -> None:
    s = st.session_state
    due = common.from_wall(s.get("rect_due"))
    if due is None or not s.get("rect_unit"):
        s[OUTCOME] = ("error", common.text("E_DASH_RECTIFY_INCOMPLETE"))
        return
    if _done(common.write(lambda w: add_rectification(w, s["rect_unit"], year=year, problem=s["rect_problem"],
                                                      due=due).id), "DASH_RECTIFY_ADDED"):
        s["rect_problem"] = ""


def do_rectify_done(rectification_id: int) -> None:
    s = st.session_state
    at = common.from_wall(s.get(f"rect_at_{rectification_id}")) or common.now()
    _done(common.write(lambda w: finish_rectification(w, rectification_id, at=at,
                                                      note=s.get(f"rect_note_{rectification_id}") or "").id),
          "DASH_RECTIFY_DONE", id=rectification_id)


RANKINGS = {"total": "按总分（百分制）", "opinion": "按舆情回应得分"}


def overview(result: scorecards.YearScores) -> None:
    complete = scorecards.complete_ranking(result.rows)
    by = st.radio("排名依据", options=list(RANKINGS), index=list(RANKINGS).index(complete), format_func=RANKINGS.get,
                  horizontal=True, key="scores_rank_by")
    if complete == "opinion":
        st.caption(common.text("DASH_OPINION_RANKING"))
    st.dataframe(scorecards.ranking(result.rows, by), hide_index=True, key="scores_ranking")
    left, mid, right = st.columns(3)
    left.download_button("下载汇总表（CSV）", data=result.csv, file_name=f"考核得分-{result.year}.csv", mime="text/csv",
                         key="scores_csv", on_click="ignore", icon=":material/download:")
    mid.download_button("下载完整工作簿（xlsx）", data=scorecards.deferred(scorecards.year_xlsx, result.year, result.now), file_name=f"考核得分-{result.year}.xlsx",
                        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        key="scores_xlsx", on_click="ignore", icon=":material/download:")
    right.caption("与 `yuqing score --format csv/xlsx` 导出的内容相同。")
    if complete == "total":
        try:
            page = scorecards.public_html(result.year)
        except YuqingError as exc:
            st.caption(common.refusal(exc))
        else:
            st.download_button("下载公开的考核结果（网页）", data=page, file_name=f"考核结果-{result.year}.html",
                               mime="text/html", key="scores_public_html", on_click="ignore", icon=":material/public:")


def indicator_charts(result: scorecards.YearScores) -> None:
    kind = st.radio("单位类别", options=list(scorecards.KIND_NAMES), format_func=lambda value: str(scorecards.KIND_NAMES.get(value, value)),
                    horizontal=True, key="scores_kind")
    found = scorecards.indicators(result.rows, kind)
    if not found:
        st.info("该类别没有参加考核的单位")
        return
    codes = list(found)
    code = st.selectbox("指标", options=codes, key=f"scores_indicator_{kind}",
                        format_func=lambda c: f"{found[c][0]}（满分 {scorecards.points(found[c][1])}）")
    name, maximum, rows = found[code]
    if not rows:
        st.info(common.text("DASH_INDICATOR_EMPTY"))
        return
    st.altair_chart(charts.indicator_chart(rows, name=name, maximum=maximum), width="stretch",
                    height=charts.indicator_height(len(rows)) + 60, key=f"chart_{code}")


def unit_detail(result: scorecards.YearScores, who: Actor) -> None:
    names = {r["unit"]["code"]: r["unit"]["name"] for r in result.rows}
    default = who.unit_code if who.role == "staff" and who.unit_code in names else None
    code = st.selectbox("单位", options=list(names), index=list(names).index(default) if default else None,
                        key="scores_unit", format_func=lambda value: str(names.get(value, value)), placeholder="选择单位查看扣分明细")
    if code is None:
        return
    row = result.row(code)
    assert row is not None
    cols = st.columns(4)
    cols[0].metric("总分", scorecards.points(row["total"]))
    cols[1].metric("等次", row["grade"] or "—")
    cols[2].metric("排名", row["rank"] or "—")
    cols[3].metric("舆情处置", f"{scorecards.points(row['opinion_points'])} / {scorecards.points(row['opinion_max'])}")
    if row["missing_manual"]:
        st.caption(common.text("DASH_MISSING_MANUAL", count=len(row["missing_manual"])))
    lines = scorecards.deductions(row, scorecards.unit_deductions(result.year, code, result.now))
    if not lines:
        st.success(common.text("DASH_NO_DEDUCTIONS"))
    for d in lines:
        with st.container(border=True, key=f"deduction_{d['key']}"):
            struck = "~~" if d["overturned"] else ""
            flag = " :red-badge[重点]" if d["flagged"] else ""
            tag = " :gray-badge[已申诉撤销]" if d["overturned"] else ""
            st.markdown(f"{struck}**−{scorecards.points(d['points'])} 分** · {d['indicator']} · "
                        f"{rule_name(d['rule'])}{struck}{flag}{tag}  \n{common.plain(d['evidence'])}")
            c1, c2 = st.columns([3, 2])
            c1.caption(f"扣分项 `{d['key']}`")
            if d["incident_id"]:
                c2.page_link(common.PAGE_INCIDENT, label=f"查看舆情 #{d['incident_id']}", icon=":material/open_in_new:",
                             query_params={"id": str(d["incident_id"])})
    extras = [*row["special"]["items"], *row["daily"]["records"]]
    if extras:
        st.markdown("**特别加减分与日常考核**")
        st.dataframe(
            [{"项目": i["name"], "分值": ("+" if i["kind"] == "bonus" else "−") + scorecards.points(i["points"]),
              "依据": i["evidence"], "日期": i["on"] or ""} for i in row["special"]["items"]]
            + [{"项目": "日常考核", "分值": f"{r['points']:+g}", "依据": r["reason"], "日期": r["on"]}
               for r in row["daily"]["records"]],
            hide_index=True, key="scores_extras",
        )
    open_keys = [d["key"] for d in lines if not d["overturned"]]
    if open_keys and common.may_act_on(who, {code}):
        with st.form("appeal_form"):
            st.markdown("**对扣分提出申诉**（由市政务公开办决定；撤销的扣分仍列出但不再计分）")
            st.selectbox("扣分项", options=open_keys, key="appeal_key",
                         format_func=lambda k: next(f"{rule_name(d['rule'])}：{d['evidence'][:60]}" for d in lines
                                                    if d["key"] == k))
            st.text_area("申诉理由", key="appeal_reason", height=80)
            st.form_submit_button("提出申诉", on_click=do_appeal, args=(code,), key="appeal_submit")


def appeals_block(year: int, who: Actor) -> None:
    items = scorecards.appeals(year)
    if not items:
        st.info(common.text("DASH_APPEALS_EMPTY"))
        return
    st.dataframe(
        [{"编号": a.id, "单位": a.unit_name, "扣分项": a.deduction_key, "理由": a.reason,
          "提出": f"{a.filed_by} {display_beijing(a.filed_at)}", "决定": DECISIONS[a.decision],
          "决定理由": a.decision_reason or "", "决定时间": display_beijing(a.decided_at)} for a in items],
        hide_index=True, key="appeals_table",
    )
    if not common.is_admin(who):
        return
    for a in (a for a in items if a.decision is None):
        with st.container(border=True, key=f"appeal_{a.id}"):
            st.markdown(f"**申诉 #{a.id}** {common.plain(a.unit_name)}：`{a.deduction_key}`  \n理由：{common.plain(a.reason)}")
            st.text_input("决定理由", key=f"decide_reason_{a.id}")
            with st.container(horizontal=True):
                st.button("撤销扣分", key=f"overturn_{a.id}", on_click=do_decide, args=(a.id, True))
                st.button("维持扣分", key=f"uphold_{a.id}", on_click=do_decide, args=(a.id, False))


def rectifications_block(year: int, who: Actor) -> None:
    items = scorecards.rectifications(year)
    now = common.now()
    states = LABELS["RECTIFY"]
    if items:
        st.dataframe(
            [{"编号": r.id, "单位": r.unit_name, "问题": r.problem, "期限": display_beijing(r.due_at),
              "状态": states[r.state(now)], "完成": display_beijing(r.done_at), "整改情况": r.note or ""} for r in items],
            hide_index=True, key="rectify_table",
        )
    else:
        st.info(common.text("DASH_RECTIFY_EMPTY"))
    if not common.is_admin(who):
        return
    units = {u.code: u.name for u in common.units()}
    with st.form("rectify_add"):
        st.markdown("**登记整改事项**")
        c1, c2 = st.columns(2)
        c1.selectbox("单位", options=list(units), index=None, key="rect_unit", format_func=lambda value: str(units.get(value, value)),
                     placeholder="选择单位")
        c2.datetime_input("整改期限（北京时间）", value=None, key="rect_due", step=60, format="YYYY-MM-DD")
        st.text_input("问题", key="rect_problem")
        st.form_submit_button("登记", on_click=do_rectify_add, args=(year,), key="rect_add_submit")
    for r in (r for r in items if r.done_at is None):
        with st.expander(f"登记完成：#{r.id} {common.plain(r.unit_name)} {common.plain(r.problem[:30])}"):
            st.text_input("整改情况", key=f"rect_note_{r.id}")
            st.datetime_input("完成时间（北京时间，留空为现在）", value=None, key=f"rect_at_{r.id}", step=60,
                              format="YYYY-MM-DD")
            st.button("登记完成", key=f"rect_done_{r.id}", on_click=do_rectify_done, args=(r.id,))


def bulletin_block(year: int, who: Actor) -> None:
    quarter = st.segmented_control("季度", options=[1, 2, 3, 4], format_func=lambda q: f"第{q}季度",
                                   default=scorecards.default_quarter(year), key=f"bulletin_q_{year}")
    if quarter is None:
        return
    try:
        title, markdown = scorecards.bulletin(year, int(quarter))
    except YuqingError as exc:
        st.error(common.refusal(exc))
        return
    number = None
    if who.role != "viewer":  # a viewer downloads the bulletin as it stands, without a 文号 of their own
        number = st.text_input("发文字号", key=f"bulletin_number_{year}", placeholder="如 三政公开办〔2026〕3号")
    c1, c2, c3 = st.columns(3)
    # The files are built when their button is clicked (a quarter's docx of a busy year takes minutes).
    c1.download_button("下载通报（公文 docx）", data=scorecards.deferred(scorecards.bulletin_docx, year, int(quarter), common.config().office_name, number or ""),
                       file_name=f"{title}.docx", key="bulletin_docx", on_click="ignore", icon=":material/download:",
                       mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    c2.download_button("下载通报（Markdown）", data=markdown.encode("utf-8"), file_name=f"{title}.md",
                       mime="text/markdown", key="bulletin_md", on_click="ignore", icon=":material/download:")
    c3.download_button("下载通报（xlsx）", data=scorecards.deferred(scorecards.bulletin_xlsx, year, int(quarter)), file_name=f"{title}.xlsx", key="bulletin_xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       on_click="ignore", icon=":material/download:")
    with st.container(border=True, key="bulletin_text"):
        st.markdown(markdown)


st.title("单位考核")

if common.guard():
    who = common.actor()
    common.show_outcome(OUTCOME)
    this_year = scorecards.this_year()
    year = st.columns([1, 3])[0].selectbox("考核年度", options=list(range(this_year, this_year - 10, -1)),
                                           key="scores_year")
    names = ["排名", "指标图表", "扣分明细与申诉", "申诉处理", "整改", "季度通报"]
    # Only the open tab is rendered: each tab's reads are paid when it is looked at.
    tabs = st.tabs(names, key="scores_tabs", on_change="rerun")
    for tab, show in zip(tabs[:3], (overview, indicator_charts, lambda r: unit_detail(r, who))):
        if not tab.open:
            continue
        with tab:
            try:
                result = scorecards.year_scores(int(year))
            except YuqingError as exc:
                st.error(common.refusal(exc))
                continue
            proposed = "（分值为建议值，未经审定）" if result.proposed else ""
            st.caption(common.text("DASH_SCORES_HEAD", year=result.year, scheme=result.scheme_title, proposed=proposed,
                                   now=display_beijing(result.now)))
            show(result)
    for tab, block in zip(tabs[3:], (appeals_block, rectifications_block, bulletin_block)):
        if tab.open:
            with tab:
                block(int(year), who)
