"""The one place that reads the environment: every YUQING_* setting, its default and its check."""
from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ingest.limits import Limits
from yuqing.errors import YuqingError

# The unit registry shipped with the application (附件1): the default of YUQING_UNITS_FILE.
UNITS_FILE = Path(__file__).resolve().parent / "db" / "units.toml"


@dataclass(frozen=True)
class Setting:
    name: str
    default: Callable[[], str]
    help: str


def _default_data_dir() -> str:
    return str(Path.cwd() / "data")


SETTINGS: tuple[Setting, ...] = (
    Setting("YUQING_DATA_DIR", _default_data_dir, "数据目录：SQLite 文件、证据文件（默认：当前目录下的 data/）"),
    Setting("YUQING_DATABASE_URL", lambda: "", "数据库地址（默认：数据目录下的 yuqing.sqlite3）；PostgreSQL 上为应用的普通角色"),
    Setting("YUQING_OWNER_DATABASE_URL", lambda: "",
            "PostgreSQL：表的属主角色的地址，yuqing init 用它迁移并为应用角色授权（默认：与 YUQING_DATABASE_URL 相同）"),
    Setting("YUQING_PRESET", lambda: "sanmenxia-2017", "时限规则预设（新登记的舆情使用）"),
    Setting("YUQING_UNITS_FILE", lambda: "", "单位名单文件（默认：随程序提供的 yuqing/db/units.toml）"),
    Setting("YUQING_AUTH_HEADER", lambda: "", "设置后看板信任反向代理传入的该请求头作为登录账号（单点登录）"),
    Setting("YUQING_SESSION_MINUTES", lambda: "60", "看板登录空闲超时（分钟）"),
    Setting("YUQING_SESSION_MAX_HOURS", lambda: "12", "看板登录最长有效期（小时，从登录时起算，不论是否活动）"),
    Setting("YUQING_FEED_PRIVATE_HOSTS", lambda: "", "单位工作人员可添加的内网信息源主机（逗号分隔的主机名或 IP；管理员不受限）"),
    Setting("YUQING_AUDIT_KEY_FILE", lambda: "", "审计密钥文件（默认：数据目录下的 audit.key；请与数据库分开备份）"),
    Setting("YUQING_ALERT_ROUTES", lambda: "", "告警路由文件（TOML，见 yuqing/alerts/routes.example.toml）"),
    Setting("YUQING_TRUSTED_PROXIES", lambda: "", "反向代理的地址或网段（逗号分隔）：只信任来自这些地址的登录请求头和 X-Forwarded-*"),
    Setting("YUQING_PUBLIC_URL", lambda: "http://127.0.0.1:8501", "看板对外地址（用于生成大屏地址）"),
    Setting("YUQING_EVIDENCE_MAX_MB", lambda: "50", "单个证据文件的大小上限（MB，与看板上传上限相同）"),
    Setting("YUQING_IMPORT_MAX_ROWS", lambda: "200000", "表格导入：每个文件的行数上限"),
    Setting("YUQING_IMPORT_MAX_CELL", lambda: "32767", "表格导入：单元格的字符数上限（Excel 的上限）"),
    Setting("YUQING_IMPORT_MAX_XLSX_MB", lambda: "512", "表格导入：xlsx 解压后的大小上限（MB，防压缩炸弹）"),
    Setting("YUQING_IMPORT_MAX_RATIO", lambda: "200", "表格导入：xlsx 中单个成员的压缩比上限（超过 1 MB 的成员）"),
    Setting("YUQING_IMPORT_BATCH_ROWS", lambda: "1000", "表格导入：每批提交的行数（中断后已提交的整批保留，重新导入只补其余）"),
    Setting("YUQING_OFFICE", lambda: "sanmenxia", "本级考核主体（根考核办）的代码：初始化时创建，未指定考核办的账号和命令属于它"),
    Setting("YUQING_OFFICE_NAME", lambda: "三门峡市政务公开领导小组办公室", "发文机关名称：通报、排名等公文的红头与落款"),
)


@dataclass(frozen=True)
class Config:
    data_dir: Path
    database_url: str
    preset: str
    units_file: Path
    auth_header: str = ""
    session_minutes: int = 60
    session_max_hours: int = 12
    alert_routes: Path | None = None
    public_url: str = "http://127.0.0.1:8501"
    trusted_proxies: tuple[str, ...] = ()
    office_name: str = "三门峡市政务公开领导小组办公室"
    office_code: str = "sanmenxia"
    feed_private_hosts: tuple[str, ...] = ()
    audit_key_file: Path | None = None
    evidence_max_mb: int = 50
    owner_database_url: str = ""
    import_limits: Limits = field(default_factory=Limits)

    @property
    def migration_url(self) -> str:
        """The URL migrations run under: the owner's when set, else the application's."""
        return self.owner_database_url or self.database_url

    @property
    def evidence_dir(self) -> Path:
        return self.data_dir / "evidence"

    @property
    def audit_key_path(self) -> Path:
        return self.audit_key_file or self.data_dir / "audit.key"

    @property
    def checkpoint_file(self) -> Path:
        return self.data_dir / "audit-checkpoints.jsonl"


def _check_database_url(url: str, name: str = "YUQING_DATABASE_URL") -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        # The raw URL may carry a password: never echo it.
        raise YuqingError("E_SETTING", name=name, problem="无法解析该地址（请检查格式、端口）") from exc
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise YuqingError(
            "E_SETTING", name=name, problem="只支持 sqlite:/// 或 postgresql+psycopg:// 地址"
        )
    if parsed.get_backend_name() == "postgresql" and parsed.drivername not in ("postgresql", "postgresql+psycopg"):
        raise YuqingError("E_SETTING", name=name, problem="PostgreSQL 请使用 postgresql+psycopg:// 驱动")
    if parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return url


def load_config(env: Mapping[str, str] | None = None, *, database_url: str | None = None) -> Config:
    """Read and check the settings; `database_url` (the CLI's --db) wins over the environment."""
    env = os.environ if env is None else env
    values = {s.name: (env.get(s.name) or s.default()) for s in SETTINGS}
    data_dir = Path(values["YUQING_DATA_DIR"]).expanduser()
    if data_dir.exists() and not data_dir.is_dir():
        raise YuqingError("E_SETTING", name="YUQING_DATA_DIR", problem=f"{data_dir} 不是目录")
    url = database_url or values["YUQING_DATABASE_URL"]
    if url:
        url = _check_database_url(url)
    else:
        url = f"sqlite:///{data_dir / 'yuqing.sqlite3'}"
    owner_url = values["YUQING_OWNER_DATABASE_URL"].strip()
    if owner_url:
        owner_url = _check_database_url(owner_url, "YUQING_OWNER_DATABASE_URL")
    from timeline.presets import available_presets

    preset = values["YUQING_PRESET"]
    if preset not in available_presets():
        raise YuqingError(
            "E_SETTING", name="YUQING_PRESET", problem=f"没有名为“{preset}”的预设，可选：{'、'.join(available_presets())}"
        )
    units_file = Path(values["YUQING_UNITS_FILE"]) if values["YUQING_UNITS_FILE"] else UNITS_FILE
    if not units_file.is_file():
        raise YuqingError("E_SETTING", name="YUQING_UNITS_FILE", problem=f"文件 {units_file} 不存在")
    try:
        session_minutes = int(values["YUQING_SESSION_MINUTES"])
    except ValueError:
        session_minutes = 0
    if not 1 <= session_minutes <= 24 * 60:
        raise YuqingError("E_SETTING", name="YUQING_SESSION_MINUTES", problem="必须是 1 到 1440 之间的整数")
    try:
        session_max_hours = int(values["YUQING_SESSION_MAX_HOURS"])
    except ValueError:
        session_max_hours = 0
    if not 1 <= session_max_hours <= 24 * 30:
        raise YuqingError("E_SETTING", name="YUQING_SESSION_MAX_HOURS", problem="必须是 1 到 720 之间的整数")
    try:
        evidence_max_mb = int(values["YUQING_EVIDENCE_MAX_MB"])
    except ValueError:
        evidence_max_mb = 0
    if not 1 <= evidence_max_mb <= 10_000:
        raise YuqingError("E_SETTING", name="YUQING_EVIDENCE_MAX_MB", problem="必须是 1 到 10000 之间的整数")
    office_code = values["YUQING_OFFICE"].strip()
    if not OFFICE_CODE.fullmatch(office_code):
        raise YuqingError("E_SETTING", name="YUQING_OFFICE", problem="只能由小写字母、数字、“-”和“_”组成（不超过 40 个字符）")
    return Config(
        import_limits=_import_limits(values),
        office_code=office_code,
        evidence_max_mb=evidence_max_mb,
        owner_database_url=owner_url,
        data_dir=data_dir,
        database_url=url,
        preset=preset,
        units_file=units_file,
        auth_header=values["YUQING_AUTH_HEADER"].strip(),
        session_minutes=session_minutes,
        session_max_hours=session_max_hours,
        alert_routes=Path(values["YUQING_ALERT_ROUTES"]).expanduser() if values["YUQING_ALERT_ROUTES"] else None,
        public_url=_check_public_url(values["YUQING_PUBLIC_URL"]),
        trusted_proxies=_check_proxies(values["YUQING_TRUSTED_PROXIES"]),
        office_name=values["YUQING_OFFICE_NAME"].strip() or "三门峡市政务公开领导小组办公室",
        feed_private_hosts=tuple(
            h.strip().lower().strip("[]") for h in values["YUQING_FEED_PRIVATE_HOSTS"].split(",") if h.strip()
        ),
        audit_key_file=Path(values["YUQING_AUDIT_KEY_FILE"]).expanduser() if values["YUQING_AUDIT_KEY_FILE"] else None,
    )


def check_owner_url(config: Config) -> None:
    """The owner's URL (checked where it is used: `yuqing init`) must reach the same PostgreSQL
    database as the application's."""
    from sqlalchemy.engine import make_url

    name = "YUQING_OWNER_DATABASE_URL"
    o, a = make_url(config.owner_database_url), make_url(config.database_url)
    if o.get_backend_name() != "postgresql" or a.get_backend_name() != "postgresql":
        raise YuqingError("E_SETTING", name=name, problem="只用于 PostgreSQL（SQLite 没有数据库角色）")
    if (o.host or "", o.port or 5432, o.database) != (a.host or "", a.port or 5432, a.database):
        raise YuqingError("E_SETTING", name=name, problem="必须与 YUQING_DATABASE_URL 指向同一台服务器上的同一个数据库")


def _import_limits(values: Mapping[str, str]) -> Limits:
    def number(name: str, low: int, high: int) -> int:
        try:
            value = int(values[name])
        except ValueError:
            value = low - 1
        if not low <= value <= high:
            raise YuqingError("E_SETTING", name=name, problem=f"必须是 {low} 到 {high} 之间的整数")
        return value

    return Limits(max_rows=number("YUQING_IMPORT_MAX_ROWS", 1, 10_000_000),
                  max_cell=number("YUQING_IMPORT_MAX_CELL", 100, 10_000_000),
                  max_expanded_mb=number("YUQING_IMPORT_MAX_XLSX_MB", 1, 100_000),
                  max_ratio=number("YUQING_IMPORT_MAX_RATIO", 10, 100_000),
                  batch_rows=number("YUQING_IMPORT_BATCH_ROWS", 1, 100_000))


OFFICE_CODE = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")


def _check_proxies(text: str) -> tuple[str, ...]:
    import ipaddress

    networks = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            networks.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError:
            raise YuqingError("E_SETTING", name="YUQING_TRUSTED_PROXIES", problem=f"“{part}”不是 IP 地址或网段") from None
    return tuple(networks)


def _check_public_url(url: str) -> str:
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")) or any(c.isspace() for c in url):
        raise YuqingError("E_SETTING", name="YUQING_PUBLIC_URL", problem="必须是 http:// 或 https:// 开头的地址")
    return url
