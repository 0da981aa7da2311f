"""Staff act within their own unit: secondary incidents, co-units, feeds and triage items of other units are refused."""

from pathlib import Path

import pytest

from tests.cliutil import yq
from tests.conftest import T0, hours
from yuqing.db.service import Actor, NewIncident, Writer
from yuqing.db.session import Database
from yuqing.errors import YuqingError

STAFF = Actor("lb-staff", "staff", "lingbao")


def admin_incident(database: Database, unit: str) -> int:
    with database.session() as s:
        return Writer(s, Actor("office"), now=T0, preset="sanmenxia-2017").add_incident(
            NewIncident(title="某舆情", unit=unit, first_post_at=T0 - hours(1))).id


def test_staff_cannot_hang_a_secondary_incident_on_another_units_incident(database: Database):
    other = admin_incident(database, "卢氏县")
    own = admin_incident(database, "灵宝市")
    with database.session() as s:
        w = Writer(s, STAFF, now=T0, preset="sanmenxia-2017")
        assert w.add_incident(NewIncident(title="次生", unit="灵宝市", parent_id=own)).parent_id == own
    with pytest.raises(YuqingError) as info, database.session() as s:
        Writer(s, STAFF, now=T0, preset="sanmenxia-2017").add_incident(NewIncident(title="次生", unit="灵宝市", parent_id=other))
    assert info.value.code == "E_FORBIDDEN_UNIT"


def test_staff_cannot_name_co_units(database: Database):
    with pytest.raises(YuqingError) as info, database.session() as s:
        Writer(s, STAFF, now=T0, preset="sanmenxia-2017").add_incident(
            NewIncident(title="联合", unit="灵宝市", co_units=("卢氏县",)))
    assert info.value.code == "E_FORBIDDEN"


def test_staff_manage_only_their_own_units_feeds(database: Database):
    with database.session() as s:
        from yuqing.db.feeds import add_feed, set_enabled

        office_feed = add_feed(Writer(s, Actor("office"), now=T0, preset="sanmenxia-2017"), "https://a.example.cn/rss").id
        own = add_feed(Writer(s, STAFF, now=T0, preset="sanmenxia-2017"), "https://1.2.3.4/rss")  # staff: public hosts only
        assert own.unit.code == "lingbao"
    with pytest.raises(YuqingError) as info, database.session() as s:
        set_enabled(Writer(s, STAFF, now=T0, preset="sanmenxia-2017"), office_feed, False)
    assert info.value.code == "E_FORBIDDEN_FEED"
    with pytest.raises(YuqingError) as info, database.session() as s:
        add_feed(Writer(s, STAFF, now=T0, preset="sanmenxia-2017"), "https://1.2.3.5/rss", unit="湖滨区")
    assert info.value.code == "E_FORBIDDEN_FEED"


def test_staff_cannot_accept_another_units_item(database: Database, tmp_path: Path):
    from yuqing.db.triage import accept

    path = tmp_path / "list.csv"
    path.write_text("标题,内容,发布时间\n卢氏县发生山体滑坡致2人死亡,卢氏县一村发生山体滑坡，已致2人死亡,2026-06-10 08:00\n", encoding="utf-8")
    assert yq(database.url, "import", str(path)).code == 0
    item = yq(database.url, "triage", "list", "--json").json()[0]
    assert item["unit"] == "lushi" and item["published_clamped"] is False
    with pytest.raises(YuqingError) as info, database.session() as s:
        accept(Writer(s, STAFF, now=T0, preset="sanmenxia-2017"), item["id"], unit="灵宝市")
    assert info.value.code == "E_FORBIDDEN_UNIT"
