"""The Texter sheet: every free-text answer, one row per accepted report."""

from __future__ import annotations

from .base import SOURCE_FILE, TEXTS, Column, Context, Table, id_columns, id_values, make_table


def texts_table(ctx: Context) -> Table:
    fields = [f for f in ctx.spec.report_fields if f.type.name == "long_text"]
    columns = [*id_columns(ctx.spec), *[Column(f.key, f.label, "long_text") for f in fields], SOURCE_FILE]
    rows = []
    for outcome in ctx.reports:
        answers = outcome.answers or {}
        rows.append({**id_values(outcome), **{f.key: answers.get(f.key) for f in fields}})
    return make_table("texts", TEXTS, "Fritextsvar, en rad per rapport", "texter", columns, rows)
