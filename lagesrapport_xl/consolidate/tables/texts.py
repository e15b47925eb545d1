"""The Texter sheet: every free-text answer, one row per accepted report."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .base import (
    SOURCE_FILE,
    SOURCE_KEYS,
    STORED_FILE,
    TEXTS,
    Column,
    Context,
    Table,
    TableBuilder,
    id_columns,
)

if TYPE_CHECKING:
    from ..statuses import FileOutcome


class TextRows:
    """A row per report as the reports come (add), then the table. In a large batch the rows go
    to disk as they come (Context.spool): they hold most of its bytes."""

    def __init__(self, ctx: Context):
        self.fields = [f.key for f in ctx.spec.report_fields if f.type.name == "long_text"]
        columns = [
            *id_columns(ctx.spec),
            *[Column(f.key, f.label, "long_text") for f in ctx.spec.report_fields if f.type.name == "long_text"],
            SOURCE_FILE,
            STORED_FILE,
        ]
        self.ctx = ctx
        self.rows = TableBuilder(columns, SOURCE_KEYS, spool=ctx.spool)

    def add(self, index: int, outcome: FileOutcome, answers: dict[str, Any]) -> None:
        self.rows.add({**self.ctx.identity(outcome, answers), **{key: answers.get(key) for key in self.fields}})

    def table(self) -> Table:
        return self.rows.table("texts", TEXTS, "Fritextsvar, en rad per rapport", "texter")
