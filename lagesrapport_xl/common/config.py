"""RAR's settings file (`--config rar.toml`) beyond the form: its tables, read where any layer can.

The form part of the file (fields, budget lines, instructions) is form/spec.py's; the web's
`[web]` table is web/settings.py's. The `[template]` table is here, at the bottom, because both
the template writer (the CLI's `lagesrapport template`) and the web intake (its template
downloads) write templates and must write the same ones:

    [template]
    upload_url = "https://rapport.rar-sormland.se"   # the web intake: the Instruktioner sheet points there
    excel_buttons = false                             # true once RAR has deployed xlwings (docs/excel.md)
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TEMPLATE_KEYS = {"upload_url", "excel_buttons"}


class ConfigError(ValueError):
    """The settings file cannot be used; the message is Swedish and says what to change."""


def config_table(config: str | Path | None, name: str, known: set[str]) -> dict[str, Any]:
    """The table `name` of the settings file ({} without a file or table); unknown keys refused."""
    if config is None:
        return {}
    try:
        data = tomllib.loads(Path(config).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{config}: filen kan inte läsas som TOML ({exc}).") from None
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{config}: [{name}] ska vara en tabell.")
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(
            f"{config}: okända inställningar i [{name}]: {', '.join(unknown)}. Möjliga: {', '.join(sorted(known))}."
        )
    return table


@dataclass(frozen=True)
class TemplateOptions:
    """How a template is made beyond the form. `upload_url`: where the coordinator sends the
    report (None: the Instruktioner sheet says e-mail). `excel_buttons`: draw the Validera button,
    which does nothing without the xlwings add-in, so it is off until RAR deploys one."""

    upload_url: str | None = None
    excel_buttons: bool = False


def template_options(config: str | Path | None, *, excel_buttons: bool | None = None) -> TemplateOptions:
    """The `[template]` table as options; `excel_buttons` (the command line's) wins over the file."""
    table = config_table(config, "template", TEMPLATE_KEYS)
    url = table.get("upload_url")
    if url is not None and (not isinstance(url, str) or not url.startswith(("https://", "http://"))):
        raise ConfigError(f"{config}: [template] upload_url ska vara en webbadress som börjar med https://.")
    buttons = table.get("excel_buttons", False)
    if not isinstance(buttons, bool):
        raise ConfigError(f"{config}: [template] excel_buttons ska vara true eller false.")
    return TemplateOptions(
        upload_url=url.rstrip("/") if url else None,
        excel_buttons=buttons if excel_buttons is None else excel_buttons,
    )
