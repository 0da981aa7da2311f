"""Every Chinese sentence the product says to a user, keyed by code. Tests assert on codes."""
from __future__ import annotations

from typing import Any

MESSAGES: dict[str, str] = {
    # --- settings and database ---
    "E_SETTING": "设置 {name} 的值无效：{problem}",
    "E_DB_UNREACHABLE": "无法连接数据库（{url}）：{detail}",
    "E_DB_NOT_INITIALISED": "数据库尚未初始化，请先运行 yuqing init",
    "E_DB_OUTDATED": "数据库结构不是最新版本，请运行 yuqing init 升级",
    "E_FILE_READ": "无法读取文件 {path}：{detail}",
    "E_DATA_FILE": "数据文件 {path} 有误：{problem}",
    # --- values typed by people ---
    "E_TIME_FORMAT": "无法识别的时间“{value}”，请使用 2026-06-10 14:00 或 ISO 8601 格式",
    "E_TIME_TOO_EARLY": "时间“{value}”早于 2000 年，请检查输入",
    "E_LEVEL": "无法识别的事件级别“{value}”，可选：特别重大、重大、较大、一般（或 I、II、III、IV）",
    "E_CATEGORY": "无法识别的事件类别“{value}”，可选：自然灾害、事故灾难、公共卫生事件、社会安全事件",
    "E_CHANNEL": "无法识别的发布渠道“{value}”，可选：{choices}",
    "E_ACTION_KIND": "无法识别的处置类型“{value}”，可选：response、release、press_conference、follow_up",
    "E_UNIT_UNKNOWN": "找不到单位“{value}”{suggestion}",
    "E_UNIT_AMBIGUOUS": "单位“{value}”对应多个单位：{choices}，请写全称或代码",
    "E_PRESET_UNKNOWN": "找不到规则预设“{value}”，可选：{choices}",
    # --- incidents ---
    "E_TITLE_EMPTY": "舆情标题不能为空",
    "E_TITLE_TOO_LONG": "舆情标题过长（{length} 字），最多 {limit} 字",
    "E_TEXT_TOO_LONG": "{field}过长（{length} 字），最多 {limit} 字",
    "E_INCIDENT_MISSING": "找不到编号为 {id} 的舆情",
    "E_PARENT_MISSING": "找不到上级舆情（编号 {id}），次生舆情必须关联已存在的舆情",
    "E_INCIDENT_VOIDED": "舆情 {id} 已作废，不能再{what}",
    "E_INCIDENT_CLOSED": "舆情 {id} 已办结，不能再{what}",
    "E_TIME_IN_FUTURE": "{what}（{value}）晚于当前时间，不能登记未来的时间",
    "E_DETECTED_BEFORE_POST": "发现时间早于首发时间？请检查：首发 {first_post}，发现 {detected}",
    "E_ACTION_BEFORE_START": "处置时间早于舆情开始时间（{start}）",
    "E_BACKDATE_REASON": "处置时间比登记时间早 {hours} 小时以上，补录必须用 --reason 说明原因",
    "E_REASON_REQUIRED": "{what}必须说明原因（--reason）",
    "E_RECLASSIFY_NOTHING": "没有给出要修改的级别、突发属性或类别",
    "E_TRANSFER_SAME_UNIT": "舆情 {id} 已由{unit}牵头，无需转办",
    "E_CO_UNIT_IS_LEAD": "协办单位不能与牵头单位相同：{unit}",
    "E_EVIDENCE_FILE": "无法读取证据文件 {path}：{detail}",
    "E_CLOSE_BEFORE_START": "办结时间早于舆情开始时间（{start}）",
    "E_TIMELINE_INPUT": "时限输入有误：{problem}",
    "E_JSON": "无法解析 JSON：{detail}",
    # --- audit ---
    "E_AUDIT_BROKEN": "审计链在第 {id} 条记录处断开：{problem}",
    "E_USAGE": "{detail}",
    # --- classify ---
    # --- ingest ---
    "E_FETCH_BAD_URL": "无法识别的订阅地址“{url}”，只支持 http、https、file 地址或本地文件路径",
    "E_FETCH_TIMEOUT": "抓取 {url} 超时（{seconds} 秒内未完成）",
    "E_FETCH_NETWORK": "抓取 {url} 时网络出错：{detail}",
    "E_FETCH_TLS": "{url} 的 HTTPS 证书或加密连接有问题：{detail}",
    "E_FETCH_TOO_MANY_REDIRECTS": "{url} 重定向超过 {limit} 次，已停止抓取",
    "E_FETCH_NOT_FOUND": "订阅地址 {url} 不存在（HTTP {status}）",
    "E_FETCH_RATE_LIMITED": "{url} 要求降低抓取频率（HTTP {status}），稍后再试",
    "E_FETCH_SERVER_ERROR": "{url} 的服务器出错（HTTP {status}）",
    "E_FETCH_HTTP_STATUS": "抓取 {url} 失败：服务器返回 HTTP {status}",
    "E_FETCH_TOO_LARGE": "{url} 的内容超过 {limit} 字节上限，已放弃",
    "E_FETCH_DECODE": "{url} 的压缩内容无法解开：{detail}",
    "E_FEED_EMPTY": "订阅源内容为空",
    "E_FEED_IS_HTML": "取回的是网页而不是 RSS/Atom 订阅源，请检查订阅地址",
    "E_FEED_UNREADABLE": "内容无法识别为 RSS/Atom 订阅源：{detail}",
    # --- scoring ---
    "E_SCHEME_UNKNOWN": "找不到评分方案“{value}”，可选：{choices}",
    "E_SCHEME_NO_YEAR": "没有适用于 {year} 年的评分方案，现有：{choices}",
    "E_SCHEME_INVALID": "评分方案文件 {path} 中 {key} 有误：{problem}",
    "E_HOLIDAY_FILE": "节假日文件 {path} 中 {key} 有误：{problem}",
    "E_WORKDAY_UNKNOWN": "无法确定 {date} 是否为工作日：节假日文件 {path} 和 chinesecalendar（支持 {years} 年）都没有 {year} 年的安排，请先在节假日文件中补充",
    "E_WORKDAYS_COUNT": "函件办理时限必须是正整数个工作日，收到：{value}",
    "E_SCORING_INPUT": "评分数据有误：{problem}",
    "E_QUARTER": "季度必须是 1、2、3、4 之一，收到：{value}",
    "E_SCORE_SNAPSHOT": "评分快照格式有误：{problem}",
    "EV_WINDOW_LATE": "{window}时限 {due}，{at} 才完成，超时 {duration}{flag}",
    "EV_WINDOW_OVERDUE": "{window}时限 {due}，截至 {now} 仍未完成，已超时 {duration}{flag}",
    "EV_PAST_DUE_RECLASSIFIED": "{window}时限 {due} 在舆情改判前已过，{treatment}",
    "EV_FLAGGED_SUFFIX": "（重点舆情）",
    "PAST_DUE_exempt": "按方案不扣分",
    "PAST_DUE_count": "按方案照常扣分",
    "PAST_DUE_unflagged_rate": "按方案以一般舆情标准扣分",
    "EV_NO_PRINCIPAL": "重点舆情《{title}》没有主要负责人作出的回应",
    "EV_FEW_CHANNELS": "《{title}》回应覆盖 {count} 类渠道（{channels}），要求至少 {required} 类",
    "EV_NO_FOLLOW_UP": "重点舆情《{title}》首次回应（{first}）后没有后续跟进",
    "EV_NO_RESPONSE_FOLLOW_UP": "重点舆情《{title}》没有任何回应，更无后续跟进",
    "EV_SECONDARY": "《{parent}》引发次生舆情 #{child}《{title}》（{at}）",
    "EV_REFERRAL_LATE": "舆情函件 #{id} 于 {sent} 发出，限 {due} 前回复，{replied} 才回复",
    "EV_REFERRAL_OVERDUE": "舆情函件 #{id} 于 {sent} 发出，限 {due} 前回复，截至 {now} 仍未回复",
    "EV_DAILY": "{on} 日常考核：{reason}",
    "RULE_late": "逾期完成",
    "RULE_overdue": "超时未完成",
    "RULE_past_due_at_reclassification": "改判前已超时",
    "RULE_no_principal": "主要负责人未回应",
    "RULE_few_channels": "回应渠道不足",
    "RULE_no_follow_up": "缺少后续跟进",
    "RULE_secondary_incident": "引发次生舆情",
    "RULE_referral_late": "函件逾期回复",
    "RULE_referral_overdue": "函件超期未复",
    "RULE_daily_record": "日常考核记录",
    # --- accounts and alerts ---
}


def render(code: str, **params: Any) -> str:
    template = MESSAGES.get(code)
    if template is None:
        return code
    try:
        return template.format(**params)
    except (KeyError, IndexError):
        return template
