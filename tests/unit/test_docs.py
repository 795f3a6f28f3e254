"""The README stays true to the code: generated sections match, the commands it names exist."""

from __future__ import annotations

from pathlib import Path

from arogya_cli import build_parser
from etl.contracts.docs import contracts_markdown
from etl.settings import settings_markdown

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def _section(name: str) -> str:
    return README.split(f"<!-- {name}:begin -->\n", 1)[1].split(f"\n<!-- {name}:end -->", 1)[0]


def test_doc001_readme_contracts_match_the_code() -> None:
    assert _section("contracts").strip() == contracts_markdown().strip(), "regenerate with `arogya contracts`"


def test_doc002_readme_settings_match_the_code() -> None:
    assert _section("settings").strip() == settings_markdown().strip(), "regenerate with `arogya settings --markdown`"


def test_doc003_readme_states_the_two_commands_and_cli_commands_exist() -> None:
    assert "make run" in README and "make test" in README
    parser = build_parser()
    for argv in (["db", "upgrade"], ["etl", "run"], ["etl", "watch"], ["etl", "report"], ["etl", "rebuild-rollups"],
                 ["demo"], ["serve"], ["contracts"], ["settings"]):
        assert parser.parse_args(argv).func
