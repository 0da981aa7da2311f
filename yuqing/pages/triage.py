"""待研判: the triage queue grouped by event (accept as an incident, merge into one, dismiss with a
reason — a whole group at once), and spreadsheet import into the queue."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

import streamlit as st

from ingest.importer import FIELDS, available_mappings, load_mapping
from timeline.clock import display_beijing
from yuqing.db.classifying import keyword_text, topic_names
from yuqing.db.service import Actor
from yuqing.db.triage import TriageGroup, accept, dismiss, merge
from yuqing.errors import YuqingError
from yuqing.pages import common, importing
from yuqing.worker import Poller

OUTCOME = "triage_outcome"
OPEN = "triage_open"  # the head of the one card whose decision panel is open
REFUSED = "triage_refused"  # (head, sentence): a decision refused, shown on its card
SHOWN_GROUPS = common.TRIAGE_PAGE_GROUPS
CUSTOM = "__custom__"
FIELD_NAMES = {"title": "标题", "text": "正文", "link": "链接", "published": "发布时间", "source": "来源", "author": "作者",
               "unit": "承办/责任单位"}


def _report(item_id: int, outcome: common.Outcome, ok_code: str, **params: object) -> None:
    """A decision's result: done, at the top of the page (the card is gone); refused, on its card."""
    if outcome.ok:
        st.session_state[OUTCOME] = ("ok", common.text(ok_code, **params, value=outcome.value))
        st.session_state.pop(OPEN, None)  # the group is decided: its panel goes with it
    else:
        _refuse(item_id, outcome.error or "")


def _refuse(item_id: int, sentence: str) -> None:
    st.session_state[REFUSED] = (item_id, sentence)


def _card_refusal(head_id: int) -> None:
    """The refusal of this card's last decision, shown once, inside the card where the user acted."""
    refused = st.session_state.get(REFUSED)
    if refused is not None and refused[0] == head_id:
        st.session_state.pop(REFUSED)
        st.error(refused[1])


def do_accept(item_id: int, unit: str | None = None) -> None:
    """Accept the group: into `unit` (the card's one-click button: the suggested unit, or a staff
    member's own), else into the unit chosen in the card's open decision panel."""
    chosen = unit or st.session_state.get(f"tr_unit_{item_id}")
    outcome = common.write(lambda w: accept(w, item_id, unit=chosen).id)
    _report(item_id, outcome, "DASH_TRIAGE_ACCEPTED")
    if outcome.ok:
        st.session_state["triage_created"] = outcome.value


def do_toggle(item_id: int) -> None:
    """Open this card's decision panel (one at a time), or close it."""
    st.session_state[OPEN] = None if st.session_state.get(OPEN) == item_id else item_id


def do_merge(item_id: int) -> None:
    target = st.session_state.get(f"tr_into_{item_id}")
    if target is None:
        _refuse(item_id, common.text("E_DASH_PICK_TARGET"))
        return
    _report(item_id, common.write(lambda w: merge(w, item_id, target)), "DASH_TRIAGE_MERGED", incident=target)


def do_merge_into(item_id: int, incident_id: int) -> None:
    _report(item_id, common.write(lambda w: merge(w, item_id, incident_id)), "DASH_TRIAGE_MERGED", incident=incident_id)


def do_dismiss(item_id: int) -> None:
    reason = st.session_state.get(f"tr_reason_{item_id}")
    _report(item_id, common.write(lambda w: dismiss(w, item_id, reason=reason)), "DASH_TRIAGE_DISMISSED")


def do_import() -> None:
    s = st.session_state
    upload = s.get("imp_file")
    if upload is None:
        s[OUTCOME] = ("error", common.text("E_DASH_NO_FILE"))
        return
    poller = Poller(common.database(), preset=common.config().preset)
    with common.uploaded_file(upload) as path, mapping_file(path) as mapping:
        if mapping is None:
            s[OUTCOME] = ("error", common.text("E_DASH_MAPPING_INCOMPLETE"))
            return
        bar = st.progress(0.0, text=common.text("DASH_IMPORT_PROGRESS", done=0, total="…"))

        def show(done: int, total: int) -> None:
            bar.progress(min(done / total, 1.0) if total else 1.0, text=common.text("DASH_IMPORT_PROGRESS", done=done, total=total))

        outcome = common.write_batches(
            lambda run: importing.import_table(run, path, mapping, poller=poller, shown_name=upload.name,  # type: ignore[arg-type]  # a mapping was chosen above, so it is not None here
                                               limits=common.config().import_limits, progress=show)
        )
    if not outcome.ok:
        s[OUTCOME] = ("error", outcome.error)
        return
    report = outcome.value
    assert report is not None  # an ok outcome carries its value
    message = common.text("DASH_IMPORTED", rows=report.rows, new=report.new, duplicate=report.duplicate,
                          errors=len(report.errors))
    s[OUTCOME] = ("ok", "  \n".join([message, *report.errors[:20]]))


class mapping_file:
    """The chosen mapping: a named one, or the columns picked on the page written as a mapping file."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._folder: tempfile.TemporaryDirectory[str] | None = None

    def __enter__(self) -> str | None:
        choice = st.session_state.get("imp_mapping")
        if choice != CUSTOM:
            return choice
        columns = {f: st.session_state.get(f"imp_col_{f}") for f in FIELDS}
        columns = {f: c for f, c in columns.items() if c}
        if "published" not in columns or not ({"title", "text"} & set(columns)):
            return None
        self._folder = tempfile.TemporaryDirectory(prefix="yuqing-mapping-")
        target = Path(self._folder.name) / "custom.toml"
        lines = ['name = "custom"', 'title = "自定义列对应"', 'source = "表格导入"', 'timezone = "Asia/Shanghai"', "[columns]"]
        lines += [f"{f} = [{json.dumps(c, ensure_ascii=False)}]" for f, c in columns.items()]
        target.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return str(target)

    def __exit__(self, *exc: object) -> None:
        if self._folder is not None:
            self._folder.cleanup()


def group_card(group: TriageGroup, who: Actor, units: dict[str, str], targets: dict[int, str]) -> None:
    head = group.head
    c = head.classification
    topics = [topic_names().get(t, t) for t in c.get("topics") or []]
    tags = [x for x in [c.get("category"), c.get("level"), "突发" if c.get("sudden") else None, *topics] if x]
    suggested = head.unit_code or (c.get("unit") or {}).get("code")
    with st.container(border=True, key=f"group_{head.id}"):
        badge = common.text("DASH_BADGE_FLAGGED" if group.flagged else "DASH_BADGE_ORDINARY")
        st.markdown(f"{badge} {'、'.join(tags) or '未分类'} · 建议责任单位：**{units.get(suggested or '', '未识别')}**"
                    f" · {len(group.items)} 条信息")
        lines = []
        for item in group.items:
            title = common.plain(item.title)
            clamped = "（发布时间晚于抓取时间，已按抓取时间计）" if item.published_clamped else ""
            reason = common.text(f"TRIAGE_REASON_{item.reason}") if item.reason else ""
            lines.append(f"- #{item.id} {display_beijing(item.published_at)}{clamped} **{common.plain(item.source)}**：{title}"
                         f" :gray[（{reason}）]")
        st.markdown("\n".join(lines))  # one element for the group's items (a list, as one per line drew)
        for similar in head.similar:
            cols = st.columns([4, 1])
            cols[0].warning(common.text("DASH_TRIAGE_SIMILAR", id=similar.id, title=common.plain(similar.title),
                                        score=f"{similar.score:.2f}"), icon=":material/content_copy:")
            if common.may_write(who) and common.may_act_on(who, {suggested} if suggested else set()):
                cols[1].button(common.text("DASH_TRIAGE_MERGE_INTO", id=similar.id), key=f"tr_dup_{head.id}_{similar.id}",
                               on_click=do_merge_into, args=(head.id, similar.id))
        keywords = c.get("keywords") or []
        if keywords:
            # The rules' version stays with the item (its record, the API, the comparison report),
            # not on every card: a hash staff have nothing to do with while deciding.
            st.caption(common.text("DASH_TRIAGE_KEYWORDS", keywords=keyword_text(keywords)))
        if not common.may_write(who):
            return
        _card_refusal(head.id)
        decision_panel(head.id, who, units, targets, suggested)


def decision_panel(head_id: int, who: Actor, units: dict[str, str], targets: dict[int, str], suggested: str | None) -> None:
    """A card's decisions. One click accepts into the suggested unit (a staff member's: their own);
    choosing another unit, merging into an incident or dismissing with a reason happen in the card's
    panel, opened one card at a time (a page of cards each holding three inputs cost more to draw
    than all its reads, and the inputs are needed for one group at a time)."""
    staff = who.role == "staff"
    quick = who.unit_code if staff else suggested
    opened = st.session_state.get(OPEN) == head_id
    row = st.columns([2, 2, 5], vertical_alignment="center")
    one_click = bool(quick) and not opened
    if one_click:
        row[0].button(common.text("DASH_TRIAGE_ACCEPT"), key=f"tr_quick_{head_id}", type="primary", on_click=do_accept,
                      args=(head_id, quick), help=common.text("DASH_TRIAGE_ACCEPT_HELP", unit=units.get(quick or "", quick)))
    toggle = ("DASH_TRIAGE_PANEL_CLOSE" if opened else "DASH_TRIAGE_PANEL_OPEN" if quick else "DASH_TRIAGE_PANEL_OPEN_NO_UNIT")
    row[1 if one_click else 0].button(common.text(toggle), key=f"tr_open_{head_id}", on_click=do_toggle, args=(head_id,),
                                      icon=":material/expand_less:" if opened else ":material/tune:")
    if not opened:
        return
    cols = list(st.columns(3))
    with cols[0]:
        options = [who.unit_code] if staff else list(units)
        default = options.index(suggested) if suggested in options else (0 if staff else None)  # type: ignore[arg-type]  # `in` checked it is one of the codes
        st.selectbox("责任单位", options=options, index=default, key=f"tr_unit_{head_id}", format_func=lambda value: str(units.get(value, value)),
                     placeholder="选择单位", disabled=staff)
        st.button(common.text("DASH_TRIAGE_ACCEPT"), key=f"tr_accept_{head_id}", type="primary", on_click=do_accept,
                  args=(head_id,))
    with cols[1]:
        st.selectbox("并入已有舆情", options=list(targets), index=None, key=f"tr_into_{head_id}",
                     format_func=lambda value: str(targets.get(value, value)), placeholder="选择舆情")
        st.button("并入", key=f"tr_merge_{head_id}", on_click=do_merge, args=(head_id,))
    with cols[2]:
        if common.may_act_on(who, {suggested} if suggested else set()):
            st.text_input("排除原因", key=f"tr_reason_{head_id}", placeholder="例如：与政务无关")
            st.button("排除", key=f"tr_dismiss_{head_id}", on_click=do_dismiss, args=(head_id,))


def group_list(state: str, who: Actor, units: dict[str, str], targets: dict[int, str]) -> None:
    """One page of SHOWN_GROUPS groups of the state, with a pager when there are more."""
    key = f"triage_page_{state}"
    wanted = int(st.session_state.get(key) or 1)
    data = common.triage_groups(state, limit=SHOWN_GROUPS, page=wanted)
    page = data.offset // SHOWN_GROUPS + 1
    if page != wanted:
        st.session_state[key] = page
    if not data.groups:
        st.info(common.text("DASH_TRIAGE_EMPTY" if state == "pending" else "TRIAGE_EMPTY_ignored"))
    for group in data.groups:
        group_card(group, who, units, targets)
    if data.pages > 1:
        pager, note = st.columns([1, 4], vertical_alignment="bottom")
        pager.number_input("页码", min_value=1, max_value=data.pages, step=1, key=key)
        note.caption(common.text("DASH_TRIAGE_PAGES", page=page, pages=data.pages, shown=len(data.groups),
                                 groups=data.total_groups, items=data.total_items))


def import_section() -> None:
    st.subheader("表格导入")
    st.caption("舆情监测服务导出表、12345 热线工单、留言板导出表等（.xlsx 或 .csv），导入后进入待研判队列。")
    upload = st.file_uploader("选择表格文件", type=["xlsx", "csv"], key="imp_file")
    names = {name: load_mapping(name).title for name in available_mappings()}
    names[CUSTOM] = "自定义：按下面选择的列"
    st.selectbox("列对应方案", options=list(names), key="imp_mapping", format_func=lambda value: str(names.get(value, value)))
    if upload is not None:
        try:
            with common.uploaded_file(upload) as path:
                shown = importing.preview(path, "generic" if st.session_state["imp_mapping"] == CUSTOM  # type: ignore[arg-type]  # a file was chosen (checked above), so the path is set
                                          else st.session_state["imp_mapping"])
        except YuqingError as exc:
            st.error(common.refusal(exc))
            return
        st.dataframe([dict(zip(shown.header, r)) for r in shown.rows], hide_index=True, key="imp_preview")
        if st.session_state["imp_mapping"] == CUSTOM:
            cols = st.columns(len(FIELDS))
            for column, field in zip(cols, FIELDS):
                column.selectbox(FIELD_NAMES[field], options=list(shown.header), index=None, key=f"imp_col_{field}",
                                 placeholder="（不导入）")
        else:
            found = "；".join(f"{FIELD_NAMES[f]} ← “{h}”" for f, h in shown.found.items()) or "无"
            st.markdown(f"识别到的列：{found}")
            if shown.missing:
                st.caption("未找到：" + "、".join(FIELD_NAMES[f] for f in shown.missing))
    st.button("导入", key="imp_go", type="primary", on_click=do_import, disabled=upload is None,
              icon=":material/upload_file:")


st.title("待研判")

if common.guard():
    who = common.actor()
    common.show_outcome(OUTCOME)
    elsewhere = st.empty()  # a refusal whose card is not on this page any more (decided meanwhile)
    created = st.session_state.pop("triage_created", None)
    if created is not None:
        st.page_link(common.PAGE_INCIDENT, label=f"查看舆情 #{created}", icon=":material/open_in_new:",
                     query_params={"id": str(created)})
    counts = common.triage_counts()
    units = {u.code: u.name for u in common.units()}
    targets: dict[int, str] = {}
    if common.may_write(who):
        st.markdown(common.text("DASH_TRIAGE_MERGE_SEARCH"))
        found = common.incident_search("tr_into", open_only=True)
        targets = {c.id: c.label for c in found.values() if common.may_act_on(who, {c.unit_code})}
    pending, ignored = counts["pending"], counts["ignored"]
    queue, set_aside, imports = st.tabs([f"待研判队列（{pending.groups}）", f"无需研判（{ignored.groups}）", "表格导入"],
                                        key="triage_tabs")
    with queue:
        group_list("pending", who, units, targets)
    with set_aside:
        st.caption(common.text("DASH_TRIAGE_IGNORED_HINT"))
        group_list("ignored", who, units, targets)
    with imports:
        if common.may_write(who):
            import_section()
        else:
            st.info(common.text("DASH_READ_ONLY"))
    if REFUSED in st.session_state:
        elsewhere.error(st.session_state.pop(REFUSED)[1])
