"""The contracts as Markdown, for the README (`arogya contracts`)."""

from __future__ import annotations

from etl.contracts.base import Kind
from etl.contracts.catalog import CONTRACTS

_KIND_TEXT = {
    Kind.ID: "id", Kind.TEXT: "text", Kind.INT: "whole number", Kind.FLOAT: "number", Kind.DATE: "date",
    Kind.DATETIME: "date and time", Kind.MONTH: "month", Kind.TIME: "HH:MM", Kind.CHOICE: "choice",
    Kind.SECRET: "patient/staff id → HMAC token", Kind.DROP: "dropped",
}  # fmt: skip


def contracts_markdown() -> str:
    lines: list[str] = []
    for contract in CONTRACTS.values():
        lines.append(f"#### `{contract.dataset}` — {contract.description}")
        lines.append(f"Natural key: {', '.join(f'`{k}`' for k in contract.key)}. File name prefix: "
                     f"`{contract.dataset}_`.\n")
        lines.append("| field | type | required | accepted headers (any case and spacing) | notes |")
        lines.append("|---|---|---|---|---|")
        for f in contract.fields:
            aliases = ", ".join(f"`{a}`" for a in (f.name, *f.aliases))
            notes = f.description
            if f.default is not None:
                notes += f" Default: `{f.default}`."
            lines.append(f"| `{f.name}` | {_KIND_TEXT[f.kind]} | {'yes' if f.required else ''} | {aliases} | {notes} |")
        lines.append("")
    return "\n".join(lines)
