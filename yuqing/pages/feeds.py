"""信息源: feed health (failing and stale feeds first), adding a feed, disabling or enabling one."""
from __future__ import annotations

import streamlit as st

from timeline.clock import display_beijing
from yuqing.db.feeds import FeedView, add_feed, remove_feed, set_enabled
from yuqing.pages import common
from yuqing.vocabulary import LABELS

OUTCOME = "feeds_outcome"
KIND_NAMES = LABELS["FEED_KIND"]


def state_name(feed: FeedView) -> str:
    if not feed.enabled:
        return "已停用" if feed.kind != "import" else "表格导入"
    if feed.error_count:
        return "故障"
    if feed.stale:
        return "停更"
    if feed.skipped_count:
        return "部分条目异常"
    return "正常"


def do_add() -> None:
    s = st.session_state
    outcome = common.write(
        lambda w: add_feed(w, s["feed_url"], name=s["feed_name"], unit=s["feed_unit"], timezone=s["feed_tz"],
                           interval_s=int(s["feed_interval"]) * 60).id
    )
    if outcome.ok:
        s[OUTCOME] = ("ok", common.text("DASH_FEED_ADDED", id=outcome.value))
        s["feed_url"] = s["feed_name"] = ""
    else:
        s[OUTCOME] = ("error", outcome.error)


def do_toggle(feed_id: int, enabled: bool) -> None:
    outcome = common.write(lambda w: set_enabled(w, feed_id, enabled).id)
    st.session_state[OUTCOME] = ("ok", common.text("DASH_FEED_TOGGLED", id=feed_id, state="启用" if enabled else "停用")) \
        if outcome.ok else ("error", outcome.error)


def do_remove(feed_id: int) -> None:
    outcome = common.write(lambda w: remove_feed(w, feed_id))
    st.session_state[OUTCOME] = ("ok", common.text("DASH_FEED_REMOVED", id=feed_id)) if outcome.ok \
        else ("error", outcome.error)


st.title("信息源")

if common.guard():
    who = common.actor()
    common.show_outcome(OUTCOME)
    feeds = common.feeds()
    failing = sum(1 for f in feeds if f.enabled and f.error_count)
    stale = sum(1 for f in feeds if f.enabled and not f.error_count and f.stale)
    cols = st.columns(4)
    cols[0].metric("信息源", len(feeds))
    cols[1].metric("故障", failing)
    cols[2].metric("停更", stale)
    cols[3].metric("24 小时新增信息", sum(f.items_24h for f in feeds))
    if not feeds:
        st.info(common.text("DASH_FEEDS_EMPTY"))
    else:
        st.dataframe(
            [
                {
                    "编号": f.id,
                    "状态": state_name(f),
                    "名称": f.name,
                    "地址": f.url,
                    "类型": KIND_NAMES.get(f.kind, f.kind),
                    "默认单位": f.unit_name or "",
                    "上次成功": display_beijing(f.last_success_at),
                    "最新一条": display_beijing(f.last_item_at),
                    "24小时新增": f.items_24h,
                    "连续失败": f.error_count,
                    "最近错误": f.last_error or "",
                    "跳过条目": f.skipped_count,
                    "最近跳过原因": f.last_skip_reason or "",
                    "下次抓取": display_beijing(f.next_poll_at),
                }
                for f in feeds
            ],
            hide_index=True,
            key="feeds_table",
        )
        st.caption("故障和停更的信息源排在前面。抓取由 `yuqing ingest run` 进程完成，本页只显示结果。")

    if common.may_write(who):
        manageable = {f.id: f for f in feeds if f.kind != "import"}
        if manageable:
            st.subheader("停用或启用")
            cols = st.columns([4, 1, 1, 1], vertical_alignment="bottom")  # type: ignore[assignment]  # st.columns gives a list here, a tuple above
            picked = cols[0].selectbox("信息源", options=list(manageable), key="feed_pick",
                                       format_func=lambda i: f"#{i} {manageable[i].name}（{state_name(manageable[i])}）")
            if picked is not None:
                enabled = manageable[picked].enabled
                cols[1].button("停用" if enabled else "启用", key="feed_toggle", on_click=do_toggle,
                               args=(picked, not enabled))
                if common.is_admin(who):
                    cols[2].button("删除", key="feed_remove", on_click=do_remove, args=(picked,),
                                   help="已收录的信息保留")
        st.subheader("添加信息源")
        units = {u.code: u.name for u in common.units()}
        with st.form("feed_add"):
            st.text_input("订阅地址（RSS/Atom）", key="feed_url", placeholder="https://…/rss.xml")
            c1, c2 = st.columns(2)
            c1.text_input("名称（可留空，抓取后取订阅源标题）", key="feed_name")
            c2.selectbox("默认责任单位", options=list(units), index=None, key="feed_unit", format_func=lambda value: str(units.get(value, value)),
                         placeholder="不指定")
            c1, c2 = st.columns(2)
            c1.text_input("时区（不带时区的时间按此理解）", value="Asia/Shanghai", key="feed_tz")
            c2.number_input("抓取间隔（分钟）", min_value=1, max_value=7 * 24 * 60, value=10, step=1, key="feed_interval")
            st.form_submit_button("添加", type="primary", on_click=do_add, key="feed_add_submit")
    else:
        st.caption(common.text("DASH_READ_ONLY"))
