"""Every Chinese sentence the product says to a user, keyed by code. Tests assert on codes."""
from __future__ import annotations

from typing import Any

from timeline.words import install

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
    "E_TIME_NO_CLOCK": "时间“{value}”只有日期，请写明时刻，例如 {value} 09:30",
    "E_TIME_TOO_LATE": "时间“{value}”晚于 2099 年，请检查输入",
    "E_FEED_URL_TOO_LONG": "订阅地址过长（{length} 个字符），最多 {limit} 个字符",
    "E_LEVEL": "无法识别的事件级别“{value}”，可选：特别重大、重大、较大、一般（或 I、II、III、IV）",
    "E_CATEGORY": "无法识别的事件类别“{value}”，可选：自然灾害、事故灾难、公共卫生事件、社会安全事件",
    "E_CHANNEL": "无法识别的发布渠道“{value}”，可选：{choices}",
    "E_ACTION_KIND": "无法识别的处置类型“{value}”，可选：回应、发布权威信息、新闻发布会、后续跟进（或 response、release、press_conference、follow_up）",
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
    "E_CLASSIFY_JSON": "第 {line} 行不是有效的 JSON：{detail}",
    "E_CLASSIFY_NOT_OBJECT": "第 {line} 行应为 JSON 对象（含 id 和 text 字段）",
    "E_CLASSIFY_ID": "第 {line} 行的 id 必须是字符串、整数或 null",
    "E_CLASSIFY_TEXT": "第 {line} 行缺少要分类的文本：text 必须是字符串",
    "E_CLASSIFY_TITLE": "第 {line} 行的 title 必须是字符串或 null",
    # --- ingest ---
    "E_FEED_EXISTS": "信息源 {url} 已经登记过",
    "E_FEED_MISSING": "找不到编号为 {id} 的信息源",
    "E_FEED_TIMEZONE": "无法识别的时区“{value}”，例如 Asia/Shanghai",
    "E_FEED_INTERVAL": "抓取间隔必须在 {low} 到 {high} 秒之间",
    "E_ITEM_MISSING": "找不到编号为 {id} 的信息",
    "E_ITEM_DECIDED": "信息 {id} 已处理（{status}），不在待研判队列中",
    "E_TRIAGE_NO_UNIT": "信息 {id} 没有识别出责任单位，请用 --unit 指定",
    "E_SQLITE_ONE_WORKER": "SQLite 数据库只支持单个抓取进程；多进程抓取请使用 PostgreSQL",
    "E_IMPORT_FORMAT": "无法导入 {path}：只支持 .xlsx 和 .csv 文件",
    "E_IMPORT_EMPTY": "{path} 中没有数据行",
    "E_IMPORT_COLUMNS": "{path} 缺少必需的列：{columns}（可用 --mapping 指定列名对应）",
    "E_IMPORT_ROW": "第 {row} 行：{problem}",
    "E_MAPPING_UNKNOWN": "找不到列映射“{value}”，可选：{choices}，或给出映射文件路径",
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
    "E_XLSX_NEEDS_OUT": "xlsx 格式必须用 --out 指定输出文件",
    "E_FILE_WRITE": "无法写入文件 {path}：{detail}",
    "E_TEXT_REQUIRED": "{what}不能为空（{flag}）",
    "E_POINTS_VALUE": "{what}“{value}”无效：{problem}",
    "E_POINTS_RANGE": "{unit}的指标“{name}”得分 {points} 超出范围：应在 0 到 {max} 分之间",
    "E_DATE_NOT_IN_YEAR": "日期 {date} 不在考核年度 {year} 年内",
    "E_INDICATOR_UNKNOWN": "评分方案 {scheme} 中{unit}（{kind}）没有指标“{value}”，可选：{choices}",
    "E_INDICATOR_COMPUTED": "指标“{name}”（{indicator}）由系统根据登记的记录计算，不能人工评分",
    "E_MANUAL_COLUMNS": "{path} 缺少必需的列：{columns}（需要 unit、indicator、points、note 四列）",
    "E_MANUAL_DUPLICATE": "{unit}的指标 {indicator} 已在第 {row} 行给出",
    "E_MANUAL_IMPORT_ROWS": "{path} 有 {count} 行有误，整个文件未导入：{rows}",
    "E_SPECIAL_UNKNOWN": "评分方案 {scheme} 中没有特别项“{value}”，可选：{choices}",
    "E_SPECIAL_SIGN": "特别项 {item}（{name}）是{kind}项，分值应为{sign}数，收到 {points}",
    "E_REFERRAL_MISSING": "找不到编号为 {id} 的舆情函件",
    "E_REFERRAL_REPLIED": "舆情函件 {id} 已于 {at} 回复，不能重复登记",
    "E_REFERRAL_BEFORE_START": "发函时间早于舆情开始时间（{start}）",
    "E_REPLY_BEFORE_SENT": "回复时间早于函件发出时间（{sent}）",
    "E_DEDUCTION_UNKNOWN": "找不到扣分项“{key}”，请从 yuqing score --format json 的 deductions 中复制 key",
    "E_DEDUCTION_SHARED": "扣分项“{key}”由多个单位承担（{units}），请用 --unit 指定申诉单位",
    "E_DEDUCTION_NOT_UNIT": "扣分项“{key}”不由{unit}承担",
    "E_APPEAL_PENDING": "扣分项“{key}”已有待决定的申诉（编号 {id}）",
    "E_APPEAL_OVERTURNED": "扣分项“{key}”已经申诉撤销（申诉 {id}），无需再申诉",
    "E_APPEAL_MISSING": "找不到编号为 {id} 的申诉",
    "E_APPEAL_DECIDED": "申诉 {id} 已于 {at} 作出决定（{decision}），不能再次决定",
    "E_RECTIFY_MISSING": "找不到编号为 {id} 的整改事项",
    "E_RECTIFY_DONE": "整改事项 {id} 已于 {at} 登记完成",
    "E_SNAPSHOT_NONE": "{year} 年还没有评分快照，请先运行 yuqing score --year {year} --freeze",
    "E_SCHEME_UNKNOWN": "找不到评分方案“{value}”，可选：{choices}",
    "E_SCHEME_NO_YEAR": "没有适用于 {year} 年的评分方案，现有：{choices}",
    "E_SCHEME_INVALID": "评分方案文件 {path} 中 {key} 有误：{problem}",
    "E_HOLIDAY_FILE": "节假日文件 {path} 中 {key} 有误：{problem}",
    "E_WORKDAY_UNKNOWN": "无法确定 {date} 是否为工作日：还没有 {year} 年的节假日安排（已知 {years} 年），请用 yuqing holidays import 导入国务院办公厅当年的节假日安排通知",
    "E_NOTICE_LINE": "节假日通知第 {line} 行无法读懂（{problem}）：{text}；未保存任何安排",
    "E_NOTICE_YEAR": "节假日通知中找不到年份（应有“关于YYYY年部分节假日安排的通知”或“现将YYYY年……”）；未保存任何安排",
    "E_NOTICE_EMPTY": "节假日通知中没有“一、元旦：……”这样的放假安排条目；未保存任何安排",
    "E_NOTICE_TOO_LONG": "节假日通知过长（上限 {limit}），请只提供通知原文",
    "E_NOTICE_READ": "无法读取节假日通知文件 {name}（请提供 UTF-8 文本）",
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
    "AL_TITLE_AT_RISK": "【即将超时】{window}｜{unit}",
    "AL_TITLE_OVERDUE": "【已超时】{window}｜{unit}",
    "AL_TITLE_FEED_FAILING": "【订阅源故障】{name}",
    "AL_TITLE_FEED_STALE": "【订阅源停更】{name}",
    "AL_TITLE_PLAIN": "政务舆情提醒",
    "AL_AT_RISK": "**【即将超时】{window}时限{status}**{flag}",
    "AL_OVERDUE": "**【已超时】{window}时限{status}，仍未完成**{flag}",
    "AL_OVERDUE_RECLASSIFIED": "**【已超时】{window}时限在舆情改判前已过（{status}），仍未完成**{flag}",
    "AL_INCIDENT_DETAILS": "单位：{unit}\n舆情：#{id}《{title}》\n时限：{due}（北京时间）",
    "AL_FEED_FAILING": "**【订阅源故障】{name} 连续 {count} 次抓取失败**\n地址：{url}\n最近错误：{error}",
    "AL_FEED_STALE": "**【订阅源停更】{name} 长时间没有新内容**\n地址：{url}\n最近一条：{last}（北京时间）",
    "AL_TEST": "这是一条测试消息：yuqing 告警渠道“{channel}”配置正确，可以收到舆情时限提醒。",
    "E_ROUTES_TOML": "告警路由文件 {path} 不是有效的 TOML：{detail}",
    "E_ROUTES_FILE": "告警路由文件 {path} 中 {key} 有误：{problem}",
    "E_ROUTES_CHANNEL": "告警路由文件 {path} 中没有名为“{value}”的渠道，可选：{choices}",
    "E_ALERT_HTTP_STATUS": "告警渠道“{channel}”返回 HTTP {http_status}，发送失败",
    "E_ALERT_RATE_LIMITED": "告警渠道“{channel}”要求降低发送频率（{detail}），发送失败",
    "E_ALERT_REJECTED": "告警渠道“{channel}”拒绝了消息：错误码 {errcode}，{errmsg}",
    "E_ALERT_BAD_RESPONSE": "告警渠道“{channel}”的回复无法识别：{detail}",
    "E_ALERT_NETWORK": "无法连接告警渠道“{channel}”：{detail}",
    "E_ALERT_TIMEOUT": "告警渠道“{channel}”在 {seconds} 秒内没有响应",
    "E_FORBIDDEN": "您的账号（{role}）无权{what}",
    "E_FORBIDDEN_UNIT": "您只能{what}本单位（{unit}）的舆情",
    "E_FORBIDDEN_FEED": "您只能管理本单位（{unit}）的信息源",
    "E_ACCOUNT_UNKNOWN": "没有名为“{name}”的账号",
    "E_ACCOUNT_DISABLED": "账号“{name}”已停用",
    "E_ACCOUNT_EXISTS": "账号“{name}”已存在",
    # --- api tokens, wall displays, the HTTP server ---
    "E_TOKEN_NAME": "名称“{name}”无效：不能为空、不能含空白，最长 60 个字符",
    "E_TOKEN_EXISTS": "接口令牌“{name}”已存在",
    "E_TOKEN_UNKNOWN": "没有名为“{name}”的接口令牌",
    "E_SCREEN_EXISTS": "大屏“{name}”已存在",
    "E_SCREEN_UNKNOWN": "没有名为“{name}”的大屏",
    "E_SCREEN_REVOKED": "这块大屏的地址已停用或无效，请联系市政务公开办重新发放大屏地址。",
    "E_API_UNAUTHORIZED": "缺少或无效的接口令牌（请求头 Authorization: Bearer …）",
    "E_API_NOT_FOUND": "没有这个接口地址：{path}",
    "E_API_METHOD": "此接口不支持 {method} 请求",
    "E_API_BAD_JSON": "请求内容不是有效的 JSON：{detail}",
    "E_API_TOO_LARGE": "请求内容过大（超过 {limit} 字节）",
    "E_API_FIELD": "字段 {field} 无效：{problem}",
    "E_API_TOO_MANY": "一次最多提交 {limit} 条信息",
    "E_HEALTH_DB": "数据库不可用：{detail}",
    "E_ACCOUNT_NAME": "账号名“{name}”无效：不能为空、不能含空格、最多 60 个字符",
    "E_ROLE": "无法识别的角色“{value}”，可选：admin、staff、viewer",
    "E_STAFF_NEEDS_UNIT": "单位工作人员账号必须用 --unit 指定所属单位",
    "E_UNIT_ONLY_FOR_STAFF": "只有单位工作人员（staff）账号需要指定单位",
    "E_PASSWORD_WEAK": "密码太短，至少 {minimum} 个字符",
    "E_PASSWORD_MISMATCH": "两次输入的密码不一致",
    "E_PASSWORD_INPUT": "没有读到密码：请在终端输入，或用 --password-stdin 从标准输入提供一行",
    "E_LOGIN_FAILED": "账号或密码错误",
    "E_ACCOUNT_LOCKED": "登录失败次数过多，账号已锁定，请 {minutes} 分钟后再试",
    "E_SESSION_EXPIRED": "登录已超时，请重新登录",
    "E_AUTH_HEADER": "单点登录未提供有效用户（请求头 {header}）",
    "E_BACKUP_TARGET": "备份文件 {path} 已存在，请换一个文件名",
    "E_BACKUP_POSTGRES": "PostgreSQL 数据库请用 pg_dump 备份，例如：pg_dump --format=custom --file=yuqing.dump \"{url}\"",
    "E_BACKUP_FAILED": "备份失败：{detail}",
    "E_ALERTS_NO_ROUTES": "没有配置告警路由：请把 YUQING_ALERT_ROUTES 设为路由文件路径（格式见 yuqing/alerts/routes.example.toml）",
    "E_ALERT_TEST_FAILED": "测试消息发送失败：{detail}",
    # --- dashboard ---
    "E_DASH_UNIT_REQUIRED": "请选择牵头单位",
    "E_DASH_TIME_REQUIRED": "请填写{what}",
    "E_DASH_INCIDENT_ID": "链接中的舆情编号“{value}”无效，应为数字，例如 ?id=12",
    "E_DASH_PICK_TARGET": "请选择要并入的舆情",
    "E_DASH_NO_FILE": "请先选择要导入的表格文件",
    "E_DASH_MAPPING_INCOMPLETE": "自定义列对应至少要选择“发布时间”列，以及“标题”或“正文”列",
    "DASH_HOLIDAY_YEARS": "已知节假日安排的年份：chinesecalendar {package} 年；节假日文件 {file}；从国务院办公厅通知导入 {imported}",
    "DASH_HOLIDAY_MISSING": "还没有 {year} 年的节假日安排：{year} 年的函件无法计算办理期限。国务院办公厅的通知发布后，请用 yuqing holidays import 导入",
    "DASH_INIT_HINT": "请在命令行运行 `yuqing init` 初始化数据库，或检查 YUQING_DATABASE_URL 设置。",
    "DASH_READ_ONLY": "您的账号只能查看，不能登记或修改。",
    "DASH_BOARD_TITLE": "倒计时看板",
    "DASH_BOARD_EMPTY": "当前没有处置中的舆情",
    "DASH_BOARD_FOOT": "时间均为北京时间；每 {seconds} 秒自动刷新。点击舆情标题查看详情。",
    "DASH_PICK_INCIDENT": "请选择一条舆情，或在倒计时看板上点击舆情标题进入。",
    "DASH_SUGGESTION_HINT": "填写标题后，这里显示自动分类的建议和依据（关键词、读出的数字、规则版本）。",
    "DASH_INCIDENT_SAVED": "已登记舆情 #{id}",
    "DASH_ACTION_SAVED": "已登记{kind}",
    "DASH_RECLASSIFIED": "已调整舆情 #{id} 的分级",
    "DASH_TRANSFERRED": "舆情 #{id} 已转办至{unit}，时限继续计算",
    "DASH_VOIDED": "舆情 #{id} 已作废，不再计入考核",
    "DASH_CLOSED": "舆情 #{id} 已办结",
    "DASH_EVIDENCE_MISSING": "证据文件“{name}”不在证据目录中（可能尚未从备份恢复）",
    "DASH_TRIAGE_EMPTY": "待研判队列为空",
    "DASH_TRIAGE_MORE": "只显示前 {shown} 组，共 {total} 组；处理后自动显示后面的",
    "DASH_TRIAGE_ACCEPTED": "已立为舆情 #{value}",
    "DASH_TRIAGE_MERGED": "已将 {value} 条信息并入舆情 #{incident}",
    "DASH_TRIAGE_DISMISSED": "已排除 {value} 条信息",
    "DASH_IMPORTED": "已读取 {rows} 行：新增 {new} 条，重复 {duplicate} 条，无法读取 {errors} 行",
    "DASH_FEEDS_EMPTY": "还没有信息源，可在下方添加 RSS/Atom 订阅地址",
    "DASH_FEED_ADDED": "已添加信息源 #{id}，抓取进程会在下一轮抓取它",
    "DASH_FEED_TOGGLED": "信息源 #{id} 已{state}",
    "DASH_FEED_REMOVED": "信息源 #{id} 已删除（已收录的信息保留）",
    "DASH_USER_ADDED": "已创建账号 {name}",
    "DASH_USER_DISABLED": "账号 {name} 已停用",
    "DASH_ROUTES_NONE": "没有配置告警路由（设置 YUQING_ALERT_ROUTES 为路由文件路径后在此显示）。",
    "E_DASH_PICK_DEDUCTION": "请选择要申诉的扣分项",
    "E_DASH_RECTIFY_INCOMPLETE": "请选择单位并填写整改期限",
    "E_DASH_REFERRAL_INCOMPLETE": "请选择舆情和承办单位",
    "DASH_SCORES_HEAD": "{year} 年政务公开考核，评分方案：{scheme}{proposed}；判定时间 {now}（北京时间）",
    "DASH_INDICATOR_EMPTY": "该指标还没有得分（人工评分指标尚未录入）",
    "DASH_MISSING_MANUAL": "有 {count} 项人工评分指标尚未录入：按评分方案，总分、等次和排名暂不给出",
    "DASH_OPINION_RANKING": "人工评分指标尚未全部录入，总分、等次暂不给出；先按本系统计算的舆情回应得分排名（部门、县区分别排名）",
    "DASH_NO_DEDUCTIONS": "本年度没有扣分",
    "DASH_APPEAL_FILED": "已提出申诉，等待市政务公开办决定",
    "DASH_APPEAL_DECIDED": "申诉 #{id}：{decision}",
    "DASH_APPEALS_EMPTY": "本年度没有申诉",
    "DASH_RECTIFY_ADDED": "已登记整改事项",
    "DASH_RECTIFY_DONE": "整改事项 #{id} 已登记完成",
    "DASH_RECTIFY_EMPTY": "本年度没有整改事项",
    "DASH_REFERRAL_SENT": "已发出函件 #{id}",
    "DASH_REFERRAL_REPLIED": "已登记函件 #{id} 的回复",
    "DASH_REFERRALS_EMPTY": "没有舆情函件",
    "DASH_REFERRAL_RULE": "办理时限按工作日计算：从发函后的第一个工作日起算，法定节假日不计、调休上班日计入，到第 N 个工作日 23:59:59（北京时间）为止。",
}


# Labels: the names of codes, one family each, looked up as FAMILY_code (see `label`).
LABELS: dict[str, dict[str, str]] = {
    "UNIT_KIND": {"department": "市政府部门", "county": "县（市、区）"},
    "ROLE": {"admin": "管理员（市政务公开办）", "staff": "单位工作人员", "viewer": "只读用户"},
    "STATUS": {"open": "处置中", "closed": "已办结", "voided": "已作废"},
    "ITEM": {"pending": "待研判", "accepted": "已立为舆情", "merged": "已并入舆情", "dismissed": "已排除",
             "ignored": "无需研判"},
    "WINDOW": {"response": "回应", "release": "发布权威信息", "press_conference": "新闻发布会"},
    "STATE": {"met": "按时", "late": "逾期完成", "open": "进行中", "overdue": "已超时", "not_applicable": "不适用"},
    "TONE": {"on_track": "正常", "at_risk": "临近时限", "overdue": "已超时", "met": "按时完成", "late": "逾期完成",
             "not_applicable": "不适用"},
    "ACTION": {"response": "回应", "release": "发布权威信息", "press_conference": "新闻发布会", "follow_up": "后续发布"},
    "REFERRAL": {"met": "按时回复", "late": "逾期回复", "overdue": "超期未复", "open": "办理中"},
    "RECTIFY": {"met": "按期完成", "late": "逾期完成", "overdue": "逾期未完成", "open": "整改中"},
    "APPEAL": {"pending": "待决定", "uphold": "维持扣分", "overturn": "撤销扣分"},
    "FEED_KIND": {"feed": "订阅源", "file": "本地文件", "import": "表格导入"},
}

# What the command line prints on success.
CLI: dict[str, str] = {
    "CLI_WINDOW_LINE": "    {window}（{hours} 小时，{due} 前）：{status}",
    "CLI_AT_RISK": "（临近时限）",
    "CLI_INIT_READY": "数据库已就绪（{url}），单位名单 {version}：新增 {added} 个，更新 {updated} 个",
    "CLI_DEMO_PRESENT": "演示数据已存在，未重复添加",
    "CLI_DEMO_NOT_EMPTY": "数据库中已有舆情记录，未添加演示数据",
    "CLI_DEMO_LOADED": "已添加演示数据：{incidents} 条舆情，演示信息源 1 个（{items} 条信息）",
    "CLI_DEMO_ACCOUNTS": "演示账号：{accounts}，密码均为 {password}（仅供试用，正式使用前请停用）",
    "CLI_REFERRAL_REPLIED": "已登记函件 {id} 的回复（{state}）",
    "CLI_RECTIFY_DONE": "整改事项 {id} 已完成（{state}）",
}

# Sentences shared by every renderer of a window (yuqing.board).
WINDOW_TEXT: dict[str, str] = {
    "DURATION_MINUTES": "{hours} 小时 {minutes} 分",
    "DURATION_SECONDS": "{hours} 小时 {minutes} 分 {seconds} 秒",
    "DURATION_DAYS": "{days} 天 {rest}",
    "WINDOW_REMAINING": "剩余 {duration}",
    "WINDOW_OVERDUE": "已超时 {duration}",
    "WINDOW_DONE": "{state}（{at}）",
    "WINDOW_PAST_DUE_SUFFIX": "（调整分级时已过时限）",
}


# argparse's own sentences (usage errors, help headings), keyed by its English message ids.
ARGPARSE: dict[str, str] = {
    "usage: ": "用法：",
    "positional arguments": "位置参数",
    "options": "选项",
    "show this help message and exit": "显示本帮助并退出",
    "%(prog)s: error: %(message)s\n": "%(prog)s：错误：%(message)s\n",
    "argument %(argument_name)s: %(message)s": "参数 %(argument_name)s：%(message)s",
    "the following arguments are required: %s": "缺少必需的参数：%s",
    "invalid choice: %(value)r (choose from %(choices)s)": "无效的选项 %(value)r（可选：%(choices)s）",
    "invalid %(type)s value: %(value)r": "无效的值 %(value)r",
    "not allowed with argument %s": "不能与参数 %s 同时使用",
    "one of the arguments %s is required": "参数 %s 必须给出其一",
    "unrecognized arguments: %s": "无法识别的参数：%s",
    "expected one argument": "需要一个值",
    "expected at least one argument": "至少需要一个值",
    "expected at most one argument": "至多一个值",
    "ambiguous option: %(option)s could match %(matches)s": "选项 %(option)s 有歧义，可能是：%(matches)s",
    "unknown parser %(parser_name)r (choices: %(choices)s)": "未知命令 %(parser_name)r（可选：%(choices)s）",
    "ignored explicit argument %r": "忽略了多余的值 %r",
}


def _table() -> dict[str, str]:
    table = dict(MESSAGES)
    table.update(WINDOW_TEXT)
    table.update(CLI)
    for family, names in LABELS.items():
        table.update({f"{family}_{code}": name for code, name in names.items()})
    return table


TABLE: dict[str, str] = _table()


class MissingWord(KeyError):
    """A code with no entry, or a placeholder its caller did not fill: a bug, never shown to users."""


def render(code: str, **params: Any) -> str:
    """The sentence for `code` with its placeholders filled. An unknown code or a missing parameter
    raises MissingWord (the vocabulary test walks every call site, so this cannot reach a user)."""
    try:
        template = TABLE[code]
    except KeyError:
        raise MissingWord(f"no vocabulary entry {code!r}") from None
    try:
        return template.format(**params)
    except (KeyError, IndexError) as exc:
        raise MissingWord(f"{code}: parameter {exc} not given") from None


def label(family: str, code: str) -> str:
    """The name of `code` in one LABELS family; an unknown code shows as itself (data from outside)."""
    return LABELS.get(family, {}).get(code, code)


install(render)
