"""Spreadsheet imports: audited, and a mapping file with a bad time zone is a data-file error."""

from pathlib import Path

from tests.cliutil import error_code, yq
from yuqing.db.session import Database


def test_spreadsheet_import_is_audited(database: Database, tmp_path: Path):
    path = tmp_path / "list.csv"
    path.write_text("标题,内容,发布时间\n卢氏县网民反映停水,卢氏县某村停水三天,2026-11-24 08:00\n", encoding="utf-8")
    assert yq(database.url, "import", str(path)).code == 0
    log = yq(database.url, "audit", "log", "--entity", "import", "--json").json()
    assert log[-1]["after"]["file"] == "list.csv" and log[-1]["after"]["new"] == 1


def test_bad_mapping_timezone_is_a_data_file_error(database: Database, tmp_path: Path):
    mapping = tmp_path / "m.toml"
    mapping.write_text('timezone = "Mars/Base"\n[columns]\ntitle = ["标题"]\npublished = ["时间"]\n', encoding="utf-8")
    data = tmp_path / "x.csv"
    data.write_text("标题,时间\n甲,2026-11-24 08:00\n", encoding="utf-8")
    result = yq(database.url, "import", str(data), "--mapping", str(mapping))
    assert result.code == 1 and error_code(result) == "E_DATA_FILE"
