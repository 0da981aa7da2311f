"""The classifier's behaviour: sudden, category, cancelling contexts, topics, units, explanation, API."""
from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classify import Classifier, ClassifyResult, classify_json, run_jsonl
from classify.ruleset import RULES_FILE, load_rules
from classify.segment import tokenizer_for
from classify.units import UnitRef, load_units_file
from timeline.presets import load_preset
from yuqing.settings import UNITS_FILE

REGISTRY = load_units_file(UNITS_FILE)[1]

ROOT = Path(__file__).resolve().parents[1]
A, N, H, S = "事故灾难", "自然灾害", "公共卫生事件", "社会安全事件"


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return Classifier.default(REGISTRY)


# --- sudden and category -------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("连霍高速三门峡段发生多车追尾事故，造成2人死亡、5人受伤。", A),
        ("湖滨区一居民楼发生火灾，消防救援人员疏散群众30余人。", A),
        ("湖滨区某小区一居民家中发生燃气泄漏引发爆燃，造成3人受伤。", A),
        ("灵宝市朱阳镇一尾矿库发生溃坝，下泄尾砂冲毁下游民房。", A),
        ("开发区一厂房屋顶坍塌，致1人死亡2人受伤。", A),
        ("今日凌晨，卢氏县一民房内发生一氧化碳中毒事件，一家四口中毒。", A),
        ("卢氏县五里川镇发生森林火灾，当地已组织400余名扑火队员上山扑救。", N),
        ("今日10时12分陕州区发生3.8级地震，市区震感明显。", N),
        ("灵宝市寺河乡发生山体滑坡，掩埋两户民房，造成3人死亡。", N),
        ("昨日傍晚，灵宝市遭遇冰雹袭击，万余亩苹果受灾。", N),
        ("湖滨区一小学32名学生午餐后出现呕吐症状，疑似食物中毒，已送医。", H),
        ("湖滨区一中学发生诺如病毒感染聚集性疫情，累计报告病例42例。", H),
        ("灵宝市一养殖场发生非洲猪瘟疫情，当地已划定疫区。", H),
        ("陕州区某工地数十名农民工聚集讨薪，并一度堵塞道路，警方到场处置。", S),
        ("湖滨区一菜市场发生持刀伤人案件，造成2人受伤，嫌疑人已被控制。", S),
        ("巴基斯坦一酒店发生自杀式爆炸袭击，已致18人死亡。", S),
        ("陕州区一村民在红薯窖内晕倒，家人下窖施救也相继晕倒，最终造成2人死亡。", A),
    ],
)
def test_reports_of_emergencies_are_sudden_with_their_category(clf: Classifier, text: str, category: str) -> None:
    res = clf.classify(text)
    assert (res.sudden, res.category) == (True, category)


@pytest.mark.parametrize(
    "text",
    [
        # drills
        "灵宝市开展危化品泄漏事故应急演练，模拟一辆槽罐车发生泄漏并引发火灾。",
        "湖滨区某小学组织全校师生开展地震应急疏散演练，1200余名师生安全撤离。",
        "卢氏县组织森林消防队伍开展灭火实战演练。",
        # meetings, lectures, campaigns, inspections
        "市应急管理局召开全市安全生产工作会议，要求吸取近期外省重大火灾事故教训。",
        "市消防救援支队走进社区开展消防安全知识讲座，讲解火灾逃生自救技能。",
        "卢氏县开展安全生产月宣传咨询活动，发放燃气安全、防火防爆宣传资料3000余份。",
        "灵宝市对全市尾矿库开展安全隐患排查整治，排查出隐患17处。",
        "冬季取暖谨防一氧化碳中毒，市卫健委发布健康提示。",
        # statistics
        "市交警支队通报，今年前三季度全市共发生道路交通事故312起，死亡人数同比下降12.5%。",
        "今年以来，全市火灾起数同比下降18%，未发生较大以上火灾事故。",
        # past events
        "今天是义马气化厂爆炸事故三周年，当地组织开展警示教育活动。",
        "回顾2021年“7·20”特大暴雨：一位基层干部讲述当年抗洪抢险的经历。",
        "灵宝市举行纪念活动，缅怀在1980年矿难中遇难的矿工。",
        # figures of speech, culture
        "电影《烈火英雄》在市区各影院上映，影片讲述扑救油罐爆炸火灾的故事。",
        "灵宝苹果电商销售爆炸式增长，单日销售额突破3000万元。",
        "市区房价“地震”？业内人士：我市楼市总体平稳。",
        "周末和朋友一起火锅聚餐。",
        # forecasts, denials, hypotheticals
        "市气象台发布暴雨蓝色预警：预计今天夜间我市大部分地区有大到暴雨，局部可能引发山洪。",
        "网传“渑池县发生化工厂爆炸”系谣言，经核实该视频系外省旧闻。",
        "地震来了怎么办？科普专家教你正确避险自救。",
        # ordinary news
        "市政府召开常务会议，研究部署优化营商环境工作。",
    ],
)
def test_near_misses_in_government_news_are_not_sudden(clf: Classifier, text: str) -> None:
    res = clf.classify(text)
    assert (res.sudden, res.category, res.level) == (False, None, None)


def test_the_title_is_read_with_the_text(clf: Classifier) -> None:
    res = clf.classify("11月5日上午，参演人员迅速开展疏散和救援。", title="灵宝市开展危化品泄漏事故应急演练")
    assert not res.sudden
    assert clf.classify("现场浓烟滚滚，消防正在扑救。", title="义马一化工厂发生爆炸").sudden


def test_a_drill_in_the_title_cancels_every_sentence(clf: Classifier) -> None:
    res = clf.classify("一辆槽罐车侧翻，液体泄漏，3人受伤被困。", title="我市举行危化品事故应急演练")
    assert not res.sudden


def test_a_denial_later_in_a_long_report_only_weakens(clf: Classifier) -> None:
    text = "今日14时许，陕州区发生4.1级地震，市区震感明显，暂无人员伤亡。\n有关部门提醒市民不信谣、不传谣。"
    assert clf.classify(text).sudden


# --- explanation --------------------------------------------------------------------------------

def test_keywords_explain_the_triggers_and_the_cancelling_context(clf: Classifier) -> None:
    assert "追尾" in clf.classify("连霍高速发生多车追尾，造成2人死亡。").keywords
    res = clf.classify("湖滨区组织开展火灾应急演练。")
    assert "!演练" in res.keywords


def test_rules_version_comes_from_the_rules_file(clf: Classifier) -> None:
    assert clf.classify("任意文本").rules_version == load_rules(RULES_FILE).version != ""


@pytest.mark.parametrize("word", ["燃气泄漏", "食物中毒", "尾矿库溃坝", "一氧化碳中毒", "冲击地压"])
def test_compound_rule_terms_are_single_tokens(clf: Classifier, word: str) -> None:
    tokens = tokenizer_for(clf.user_words).lcut(f"今天发生{word}事件", HMM=False)
    assert word in tokens


# --- topics -------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "topics"),
    [
        ("网传我市自来水被污染不能饮用？市水利局：消息不实。", ("rumour",)),
        ("关于“灵宝市中小学推迟开学”的传言，灵宝市教育局回应：系误读政策。", ("rumour",)),
        ("市民投诉：湖滨区某小区入冬以来供暖温度不达标。", ("livelihood",)),
        ("陕州区多名居民反映，小区已连续三天停水。", ("livelihood",)),
        ("网友曝光灵宝市某单位公车私用，灵宝市纪委已介入调查。", ("misconduct",)),
        ("有媒体质疑湖滨区某安置房项目招标过程不规范，涉嫌围标串标。", ("misconduct",)),
        ("义马市一小区业主维权：开发商延期交房两年。", ("rights",)),
        ("十余名农民工讨薪，称被拖欠工资近半年。", ("livelihood", "rights")),
        ("市发改委公布今冬供暖价格，居民供暖价格保持不变。", ()),
        ("这充分反映了全市经济稳中向好的态势。", ()),
        ("事发客车涉嫌超载，司机已被警方控制。", ()),
    ],
)
def test_opinion_topics(clf: Classifier, text: str, topics: tuple[str, ...]) -> None:
    assert clf.classify(text).topics == topics


def test_topics_never_flag_by_themselves(clf: Classifier) -> None:
    res = clf.classify("陕州区多名居民反映，小区已连续三天停水，生活受到严重影响。")
    assert res.topics == ("livelihood",)
    assert not res.sudden and res.level is None
    assert not load_preset("sanmenxia-2017").is_flagged(res.level, res.sudden)


def test_topic_names_are_documented_by_the_classifier(clf: Classifier) -> None:
    assert clf.topic_names == {"rumour": "谣言误读", "unverified": "待核实", "livelihood": "民生诉求", "misconduct": "曝光质疑",
                               "rights": "维权"}


# --- responsible unit ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("灵宝市函谷关镇发生一起客车侧翻事故。", "lingbao"),
        ("渑池县境内一辆槽罐车侧翻。", "mianchi"),
        ("陕县大营镇一面粉厂发生粉尘爆炸。", "shanzhou"),
        ("城乡一体化示范区一物流仓库发生大火。", "sfq"),
        ("三门峡经济开发区一路口发生两车相撞。", "kfq"),
        ("市交警支队通报，209国道一辆大货车冲入路边民房。", "gaj"),
        ("市区一小区发生天然气爆炸，市应急管理局、市住建局已赶赴现场。", "yjglj"),
        ("市安监局通报一起事故。", "yjglj"),
        ("市工商局接到投诉。", "scjgj"),
        ("三门峡市质量技术监督局发布通知。", "scjgj"),
        ("湖滨区一小区发生火灾，市消防救援支队赶到现场。", "hubin"),
        ("义马市一化工厂发生爆炸，市应急管理局已赶赴现场。", "yima"),
        ("市区某小区举办消防安全演练。", None),
        ("黄河三门峡库区一艘游船翻沉。", None),
    ],
)
def test_place_outranks_department_and_old_names_resolve(clf: Classifier, text: str, code: str | None) -> None:
    res = clf.classify(text)
    assert (res.unit.code if res.unit else None) == code


def test_units_come_from_the_list_given(clf: Classifier) -> None:
    units = (UnitRef(code="test", name="测试县人民政府", kind="county", aliases=("测试县",)),)
    other = Classifier.default(units=units)
    assert other.classify("测试县发生一起火灾，2人受伤。").unit == units[0]
    assert other.classify("灵宝市发生一起火灾。").unit is None


# --- API and JSON -------------------------------------------------------------------------------

def test_result_is_a_frozen_dataclass_with_the_agreed_fields(clf: Classifier) -> None:
    res = clf.classify("连霍高速发生多车追尾，造成2人死亡。")
    assert isinstance(res, ClassifyResult)
    assert list(res.__dataclass_fields__) == [
        "sudden", "category", "level", "topics", "unit", "keywords", "figures", "rules_version",
    ]
    with pytest.raises(AttributeError):
        res.sudden = False  # type: ignore[misc]  # the test checks that the frozen dataclass refuses it


def test_classify_json_has_exactly_the_agreed_keys(clf: Classifier) -> None:
    res = clf.classify("灵宝市一客车侧翻，已致3人死亡。")
    data = classify_json(res, "1", True)
    assert list(data) == [
        "id", "sudden", "flagged", "category", "level", "topics", "unit", "keywords", "figures", "rules_version",
    ]
    assert data["unit"] == {"code": "lingbao", "name": "灵宝市人民政府"}
    assert list(data["figures"]) == [
        "deaths", "injured", "seriously_injured", "missing", "trapped", "affected", "evacuated", "loss_yuan",
    ]
    assert (data["level"], data["category"], data["figures"]["deaths"]) == ("较大", A, 3)
    json.dumps(data, ensure_ascii=False)


def test_classify_json_writes_null_for_unknowns(clf: Classifier) -> None:
    data = classify_json(clf.classify("今天天气晴朗。"), None, False)
    assert data["id"] is None and data["unit"] is None and data["level"] is None and data["category"] is None


def test_run_jsonl_classifies_in_order_and_reports_malformed_lines(clf: Classifier) -> None:
    lines = [
        json.dumps({"id": "a", "text": "连霍高速发生多车追尾，造成2人死亡。"}, ensure_ascii=False),
        "",
        "{not json",
        "[1, 2]",
        json.dumps({"id": "c"}),
        json.dumps({"id": "d", "text": 42}),
        json.dumps({"id": "e", "text": "火灾", "title": 7}),
        json.dumps({"id": {"x": 1}, "text": "火灾"}),
        "   \n",
        json.dumps({"id": 7, "title": "义马一化工厂爆炸", "text": "现场浓烟滚滚。"}, ensure_ascii=False),
    ]
    out: list[dict] = []
    preset = load_preset("sanmenxia-2017")
    errors = run_jsonl(lines, out.append, clf, preset.is_flagged)
    assert errors == 6
    assert [o["id"] for o in out] == ["a", None, None, "c", "d", "e", None, 7]
    codes = [o["error"]["code"] if "error" in o else None for o in out]
    assert codes == [
        None, "E_CLASSIFY_JSON", "E_CLASSIFY_NOT_OBJECT", "E_CLASSIFY_TEXT", "E_CLASSIFY_TEXT",
        "E_CLASSIFY_TITLE", "E_CLASSIFY_ID", None,
    ]
    assert all("第" in o["error"]["message"] for o in out if "error" in o)
    assert out[0]["sudden"] and out[0]["flagged"]
    assert out[-1]["sudden"] and out[-1]["unit"]["code"] == "yima"


def test_flagged_follows_the_preset_passed_in(clf: Classifier) -> None:
    lines = [json.dumps({"id": "1", "text": "连霍高速发生多车追尾，造成2人死亡。"}, ensure_ascii=False)]
    out: list[dict] = []
    run_jsonl(lines, out.append, clf, load_preset("national-2016").is_flagged)
    assert out[0]["sudden"] and out[0]["level"] == "一般" and not out[0]["flagged"]


# --- purity, warnings, threads, robustness -----------------------------------------------------

# Purity of classify/ is checked with timeline/ and scoring/ in test_timeline_engine.py.


def test_classifier_startup_prints_and_warns_nothing() -> None:
    code = ("from classify import Classifier; from classify.units import load_units_file; "
            "from yuqing.settings import UNITS_FILE; "
            "print(Classifier.default(load_units_file(UNITS_FILE)[1]).classify('连霍高速发生追尾').sudden)")
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert (done.returncode, done.stdout.strip(), done.stderr) == (0, "True", "")


def test_classify_gives_the_same_answers_from_many_threads(clf: Classifier) -> None:
    texts = [
        "连霍高速发生多车追尾，造成2人死亡。", "市政府召开常务会议。", "灵宝市一金矿发生透水事故，12名矿工被困。",
        "网传渑池县发生爆炸系谣言。", "义马市一企业职工食堂发生食物中毒，中毒人数已升至128人。",
    ] * 40
    expected = [clf.classify(t) for t in texts]
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(clf.classify, texts)) == expected


def test_default_classifier_is_shared(clf: Classifier) -> None:
    assert Classifier.default(REGISTRY) is clf
    assert Classifier.default(REGISTRY) is clf


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("火灾爆炸死亡人受伤一二三十百万亿余近3.5名，。“”灵宝市发生无")), max_size=60))
def test_any_text_gives_a_complete_result(text: str) -> None:
    res = Classifier.default(REGISTRY).classify(text)
    assert set(res.figures) == {
        "deaths", "injured", "seriously_injured", "missing", "trapped", "affected", "evacuated", "loss_yuan",
    }
    assert res.sudden or (res.category is None and res.level is None)
    assert all(v is None or (isinstance(v, int) and v >= 0) for v in res.figures.values())
