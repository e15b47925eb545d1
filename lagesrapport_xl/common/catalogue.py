"""Every issue the package can raise, declared once: its code, severity, Swedish message and docs.

Like pyxform's `ErrorCode`: code that finds a problem names its `Code` and gives the parts of the
message (`NAME_MISSING.issue(value, name=…, …)`); the wording lives here alone, so a message is
changed, reviewed or looked up in one place, and a test proves that every issue the reader makes
is declared here with its severity, that docs/reader.md lists every code, and that each anchor is
a heading of the docs. A `code` is stable (the web intake stores it, tests and statistics count
it; validate's JSON leaves it out): never change one.

A template is `str.format` text with named placeholders. Where the wording depends on the case
(a period that starts too early or ends too late), a code has one template per variant, each a
whole sentence, chosen with `variant=`. A part that is itself composed elsewhere (a field type's
parse problem from form/fieldtypes.py, a condition's message from form.toml) is passed in whole.

Another layer adds its codes the same way: a `Catalogue` of its own below the reader's (e.g.
`CONSOLIDATION = Catalogue("consolidation")` and its `CONSOLIDATION.add(...)` lines), listed in
`CATALOGUES`. A layer has its own namespace, so its `internal_error` may say what its own failure
means; a code declared by two layers must keep one severity (tests/test_catalogue.py checks it).
"""

from __future__ import annotations

import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .issues import Issue, Severity

ERROR, WARNING = Severity.ERROR, Severity.WARNING
# Keyword arguments of Code.issue: a placeholder of the same name could never be given.
_RESERVED = frozenset({"value", "sheet", "cell", "field", "label", "variant"})


@dataclass(frozen=True, eq=False)
class Code:
    """One kind of issue. `templates`: variant → Swedish message ("" for a code with one);
    `anchor`: the docs page and heading that explain it, e.g. 'reader.md#filen-och-mallen'."""

    code: str
    severity: Severity
    templates: Mapping[str, str]
    anchor: str

    def __post_init__(self) -> None:
        taken = self.placeholders() & _RESERVED
        if taken:
            raise ValueError(f"{self.code}: placeholders {sorted(taken)} are Code.issue's own arguments")
        if "#" not in self.anchor or not self.templates:
            raise ValueError(f"{self.code}: needs a template and an anchor 'page.md#heading'")

    def placeholders(self) -> set[str]:
        return {name for text in self.templates.values()
                for _, name, _, _ in string.Formatter().parse(text) if name}

    def message(self, variant: str = "", **parts: Any) -> str:
        return self.templates[variant].format(**parts)

    def issue(self, value: Any = None, *, sheet: str | None = None, cell: str | None = None,
              field: str | None = None, label: str | None = None, variant: str = "", **parts: Any) -> Issue:
        """The issue with its message rendered from `parts`, at the given place."""
        return Issue(self.severity, self.message(variant, **parts), self.code, sheet, cell, field, label, value)


class Catalogue(Mapping[str, Code]):
    """The codes of one layer, by code."""

    def __init__(self, layer: str) -> None:
        self.layer = layer
        self._codes: dict[str, Code] = {}

    def add(self, code: str, severity: Severity, templates: str | Mapping[str, str], anchor: str) -> Code:
        if code in self._codes:
            raise ValueError(f"{code} is declared twice in the {self.layer} catalogue")
        entry = Code(code, severity, {"": templates} if isinstance(templates, str) else dict(templates), anchor)
        self._codes[code] = entry
        return entry

    def __getitem__(self, code: str) -> Code:
        return self._codes[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self._codes)

    def __len__(self) -> int:
        return len(self._codes)


# --- the reader: reader/read.py, check.py, rules.py, sources/, safety/ -------------------------

READER = Catalogue("reader")

# Where the docs explain each group (GitHub's heading anchors; tests/test_catalogue.py checks them).
ACCEPTED = "reader.md#vad-som-godtas-och-vad-som-aldrig-gissas"
RULES = "reader.md#regler-mellan-frågorna"
FILE_AND_TEMPLATE = "reader.md#filen-och-mallen"
PRIVACY = "reader.md#personuppgifter"
ROLLED_FORWARD = "rollforward.md#kontroll-när-rapporten-kommer-in"
IN_A_BATCH = "consolidation.md#rapport-efter-rapport"
FILE_KIND = "safety.md#the-file-kind-by-content"
HARD_LIMITS = "safety.md#hard-limits-limits-all-configurable"
HOSTILE = "safety.md#hostile-content-always-refused"

# Sentences many messages end with.
NEW_TEMPLATE = "Fyll i svaren i en ny, oförändrad mall från RAR."
SAVE_AS_XLSX = (
    "Öppna filen i Excel och spara den som Excel-arbetsbok (.xlsx): Arkiv → Spara som → Excel-arbetsbok."
)
SEND_AGAIN = "Be avsändaren skicka rapporten på nytt i RAR:s mall (.xlsx)."
REFUSED = "Filen läses inte av säkerhetsskäl."
_REFUSED_SEND_AGAIN = REFUSED + " " + SEND_AGAIN
_IN_TEMPLATE = "(i mallen cell {template_cell} på bladet {template_sheet})"
_ACROSS_PERIOD = "Rapportperioden ska ligga inom insatsens totala tidsperiod."

# The file as a whole (read.py, sources/, check.py).
FILE_UNREADABLE = READER.add("file_unreadable", ERROR, {
    "missing": "Filen finns inte. Kontrollera namnet och sökvägen.",
    "directory": "Det här är en mapp, inte en fil.",
    "permission": "Filen får inte läsas (behörighet saknas). Kopiera den till en mapp du kan läsa.",
    "other": "Filen kan inte öppnas ({reason}). Kontrollera att den inte är skadad.",
}, FILE_AND_TEMPLATE)
UNREADABLE_FILE = READER.add(
    "unreadable_file", ERROR,
    "Filen kunde inte läsas: den är skadad eller inte en riktig Excel-arbetsbok. Öppna den i Excel "
    "eller LibreOffice och spara den igen: Arkiv → Spara som → Excel-arbetsbok (.xlsx).", FILE_AND_TEMPLATE)
INTERNAL_ERROR = READER.add(
    "internal_error", ERROR,
    "Filen kunde inte kontrolleras på grund av ett fel i programmet. Skicka filen till RAR:s kansli så att "
    "felet kan rättas.", FILE_AND_TEMPLATE)

# The form version (check.py).
NOT_TEMPLATE = READER.add(
    "not_template", ERROR,
    "Filen är inte RAR:s Lägesrapport-mall: formulärversionen saknas. Fyll i mallen från RAR och skicka den filen.",
    FILE_AND_TEMPLATE)
VERSION_MISMATCH = READER.add(
    "version_mismatch", WARNING,
    "Filen anger två olika formulärversioner ({in_cell} och {in_property}). Mallen har ändrats; kontrollera "
    "svaren. " + NEW_TEMPLATE, FILE_AND_TEMPLATE)
VERSION_UNKNOWN = READER.add(
    "version_unknown", ERROR, "Formulärversionen ”{version}” känns inte igen. " + NEW_TEMPLATE, FILE_AND_TEMPLATE)
VERSION_INCOMPATIBLE = READER.add("version_incompatible", ERROR, {
    "older": "Filen är gjord med formulärversion {version}, men programmet läser version {known}. "
    "Mallen är för gammal. " + NEW_TEMPLATE,
    "newer": "Filen är gjord med formulärversion {version}, men programmet läser version {known}. "
    "Uppdatera programmet lagesrapport_xl för att läsa den.",
}, FILE_AND_TEMPLATE)
VERSION_OLDER = READER.add(
    "version_older", WARNING,
    "Filen är gjord med en äldre mall (formulärversion {version}; den nya är {known}). Svaren har lästs, men "
    "använd den nya mallen nästa gång.", FILE_AND_TEMPLATE)
VERSION_NEWER = READER.add(
    "version_newer", WARNING,
    "Filen är gjord med formulärversion {version}, nyare än programmets {known}. Svaren har lästs; uppdatera "
    "lagesrapport_xl.", FILE_AND_TEMPLATE)

# Sheets and defined names: where each answer is (check.py).
SHEET_HIDDEN = READER.add(
    "sheet_hidden", WARNING,
    "Bladet ”{sheet_name}” är dolt. Svaren har lästs, men visa bladet igen (högerklicka på en bladflik → Ta fram).",
    FILE_AND_TEMPLATE)
SHEET_RENAMED = READER.add(
    "sheet_renamed", WARNING,
    "Bladet ”{expected}” har bytt namn till ”{actual}”. Svaren har lästs från ”{actual}”; byt gärna tillbaka "
    "namnet till ”{expected}”.", FILE_AND_TEMPLATE)
SHEET_MISSING = READER.add(
    "sheet_missing", ERROR,
    "Bladet ”{sheet_name}” saknas i filen (borttaget eller omdöpt), så {count} svar kan inte läsas. " + NEW_TEMPLATE,
    FILE_AND_TEMPLATE)
STRUCTURE_CHANGED = READER.add(
    "structure_changed", WARNING,
    "Bladet ”{sheet_name}” har ändrats (rader eller kolumner har lagts till, tagits bort eller flyttats): {count} "
    "svar står inte där mallen har dem, t.ex. ”{example}” i {found_at} i stället för {template_at}. Svaren har "
    "lästs där de står nu; kontrollera dem och använd en oförändrad mall nästa gång.", FILE_AND_TEMPLATE)
NAME_MISSING = READER.add(
    "name_missing", ERROR,
    "Svaret hittas inte: namnet ”{name}” " + _IN_TEMPLATE + " saknas i filen. " + NEW_TEMPLATE, FILE_AND_TEMPLATE)
NAME_REF = READER.add(
    "name_ref", ERROR,
    "Svaret hittas inte: cellen som namnet ”{name}” pekade på " + _IN_TEMPLATE + " har tagits bort. " + NEW_TEMPLATE,
    FILE_AND_TEMPLATE)
NAME_RANGE = READER.add(
    "name_range", ERROR,
    "Namnet ”{name}” " + _IN_TEMPLATE + " pekar inte på en enda cell utan på ”{target}”, så svaret kan inte läsas "
    "säkert. " + NEW_TEMPLATE, FILE_AND_TEMPLATE)
NAME_SHEET_MISSING = READER.add(
    "name_sheet_missing", ERROR,
    "Namnet ”{name}” " + _IN_TEMPLATE + " pekar på bladet ”{target_sheet}”, som inte finns. " + NEW_TEMPLATE,
    FILE_AND_TEMPLATE)
NAME_ELSEWHERE = READER.add(
    "name_elsewhere", ERROR,
    "Namnet ”{name}” " + _IN_TEMPLATE + " pekar på ett annat blad ({target_sheet}!{target_cell}), så svaret kan "
    "inte läsas säkert. " + NEW_TEMPLATE, FILE_AND_TEMPLATE)
NAME_CONFLICT = READER.add(
    "name_conflict", ERROR,
    "Namnet ”{name}” pekar på samma cell ({address}) som frågan ”{other}”, så svaret kan inte läsas säkert. "
    + NEW_TEMPLATE, FILE_AND_TEMPLATE)
MERGED_CELLS = READER.add("merged_cells", WARNING, {
    "": "Cellerna {merged} är sammanfogade, så bara värdet i {first} finns kvar. Dela upp cellerna (Start → "
    "Sammanfoga och centrera → Dela upp celler) och kontrollera svaren.",
    "lost": "Cellerna {merged} är sammanfogade, så bara värdet i {first} finns kvar och {lost} läses som tom. "
    "Dela upp cellerna (Start → Sammanfoga och centrera → Dela upp celler) och kontrollera svaren.",
}, FILE_AND_TEMPLATE)

# One answer at a time (check.py; the parse problems themselves are form/fieldtypes.py's).
FORMULA_IN_CELL = READER.add(
    "formula_in_cell", ERROR, "Cellen innehåller formeln {formula}. Skriv själva svaret i cellen, inte en formel.",
    ACCEPTED)
CELL_ERROR = READER.add(
    "cell_error", ERROR, "Cellen visar felet {error}. Skriv ett giltigt svar. {hint}", ACCEPTED)
# invalid_<field type>: looked up by the type's name (READER[f"invalid_{type}"]); the problem as parsed.
READER.add("invalid_text", ERROR, "{problem}", ACCEPTED)
READER.add("invalid_long_text", ERROR, "{problem}", ACCEPTED)
READER.add("invalid_date", ERROR, "{problem}", ACCEPTED)
READER.add("invalid_count", ERROR, "{problem}", ACCEPTED)
READER.add("invalid_report_number", ERROR, "{problem}", ACCEPTED)
READER.add("invalid_yes_no", ERROR, "{problem}", ACCEPTED)
READER.add("invalid_amount", ERROR, "{problem}", ACCEPTED)
AMOUNT_HAS_ORE = READER.add(
    "amount_has_ore", WARNING,
    "Beloppet har ören: det har lästs som {read}, men budgeten skrivs i hela kronor och cellen visar {shown}. "
    "Kontrollera beloppet och skriv det i hela kronor.", ACCEPTED)
INVALID_RANGE = READER.add("invalid_range", ERROR, "{problem}", ACCEPTED)
RANGE_CONFLICT = READER.add(
    "range_conflict", ERROR,
    "Cellen innehåller intervallet {typed}, men till-cellen ({high_cell}) innehåller {high}. Skriv det lägsta "
    "antalet här och det högsta i till-cellen.", ACCEPTED)
RANGE_REVERSED = READER.add(
    "range_reversed", ERROR,
    "Planerat antal från ({low}) är större än till ({high}). Skriv det lägsta antalet först och det högsta sist.",
    ACCEPTED)
REQUIRED_MISSING = READER.add(
    "required_missing", ERROR, "Frågan är obligatorisk men svaret saknas. {hint}", RULES)
REQUIRED_NOW = READER.add("required_now", ERROR, "{condition} {hint}", RULES)  # the condition's message: form.toml
PERSONAL_DATA = READER.add(
    "personal_data", WARNING,
    "Svaret verkar innehålla {found} ({shown}). Ta bort personuppgifter: skriv inga personnummer, "
    "e-postadresser eller telefonnummer till deltagare eller andra personer.", PRIVACY)

# A rolled-forward template's values from the report before (check.py).
PREVIOUS_UNREADABLE = READER.add(
    "previous_unreadable", ERROR,
    "Värdet från föregående lägesrapport ({name}) kan inte läsas: den dolda, låsta cellen har ändrats. Be RAR om "
    "en ny mall, framförd från föregående rapport.", ROLLED_FORWARD)
CARRIED_MISSING = READER.add(
    "carried_missing", ERROR,
    "Cellen innehåller formeln {formula}, men värdet från föregående lägesrapport ({previous}) saknas i filen. "
    "Skriv det ackumulerade utfallet som ett belopp, eller be RAR om en ny mall.", ROLLED_FORWARD)

# Rules across answers (rules.py).
END_BEFORE_START = READER.add("end_before_start", ERROR, {
    "initiative": "Slutdatumet {end} ligger före startdatumet {start} för insatsens totala tidsperiod. Rätta "
    "datumen så att perioden slutar efter att den börjar.",
    "period": "Slutdatumet {end} ligger före startdatumet {start} för rapportperioden. Rätta datumen så att "
    "perioden slutar efter att den börjar.",
}, RULES)
PERIOD_OUTSIDE_INITIATIVE = READER.add("period_outside_initiative", ERROR, {
    "start": "Rapportperioden börjar {date}, före insatsens start {bound}. " + _ACROSS_PERIOD,
    "end": "Rapportperioden slutar {date}, efter insatsens slut {bound}. " + _ACROSS_PERIOD,
}, RULES)
PERIOD_LENGTH = READER.add(
    "period_length", WARNING,
    "Rapportperioden är {days} dagar lång; en lägesrapport gäller normalt ett halvår (cirka {usual} dagar). "
    "Kontrollera datumen.", RULES)
REPORT_NUMBER_ABOVE_TOTAL = READER.add(
    "report_number_above_total", ERROR,
    "Lägesrapport nr {number} är större än det totala antalet rapporter ({total}). Rätta numret eller det totala "
    "antalet.", RULES)
SIGNED_BEFORE_PERIOD_END = READER.add(
    "signed_before_period_end", WARNING,
    "Rapporten är daterad {signed}, före rapportperiodens slut {end}. Kontrollera datumet.", RULES)
CUMULATIVE_BELOW_PERIOD = READER.add(
    "cumulative_below_period", ERROR,
    "{line}: ackumulerat utfall sedan start ({cumulative}) är mindre än utfallet för perioden ({period}), men det "
    "ackumulerade utfallet ska innehålla perioden. Rätta någon av siffrorna.", RULES)
CUMULATIVE_ABOVE_GRANTED = READER.add(
    "cumulative_above_granted", WARNING,
    "{line}: ackumulerat utfall ({cumulative}) är större än beviljad budget för hela insatsen ({granted}). "
    "Kontrollera siffrorna och förklara i kommentaren.", RULES)
FINANCING_MISMATCH = READER.add("financing_mismatch", WARNING, {
    "": "{column}: kostnaderna är {costs} men finansieringen är {funds} (skillnad {difference}). Kontrollera att "
    "finansieringen täcker kostnaderna.",
    "blank": "Finansieringen är inte ifylld, men kostnaderna är det. Fyll i hur kostnaderna finansieras (raderna "
    "under ”{heading}”), så att raden ”{balance}” blir 0.",
}, RULES)
BUDGET_ACTUAL_MISSING = READER.add(
    "budget_actual_missing", ERROR,
    "{line}: raden har en budget men {missing} saknas. Skriv beloppet, eller 0 om det inte fanns något utfall.",
    RULES)
BUDGET_EMPTY = READER.add(
    "budget_empty", ERROR,
    "Budgeten saknar belopp. {line}: skriv radens belopp (budget och utfall), eller 0 i cellerna om raden inte "
    "används.", RULES)

# This report against the one before it (rules.check_previous).
CUMULATIVE_BELOW_PREVIOUS = READER.add(
    "cumulative_below_previous", WARNING,
    "{line}: ackumulerat utfall sedan start ({now}) är mindre än i föregående lägesrapport, {previous}: "
    "{earlier}. Det ackumulerade utfallet minskar normalt inte; kontrollera beloppet och förklara en rättelse i "
    "kommentaren.", ROLLED_FORWARD)
REPORT_NUMBER_NOT_NEXT = READER.add(
    "report_number_not_next", ERROR,
    "Mallen fördes fram från lägesrapport {previous}, så den här rapporten ska vara nr {next}, inte nr {number}. "
    "Numret är förifyllt och låst: mallen har ändrats eller förts fram från fel rapport. Be RAR om en ny mall.",
    ROLLED_FORWARD)
REPORT_NUMBER_GAP = READER.add("report_number_gap", WARNING, {
    "one": "Närmast föregående lägesrapport för insatsen i sammanställningen är {previous}; nr {first} saknas. "
    "Kontrollera att alla rapporter har kommit in.",
    "several": "Närmast föregående lägesrapport för insatsen i sammanställningen är {previous}; nr {first}–{last} "
    "saknas. Kontrollera att alla rapporter har kommit in.",
}, IN_A_BATCH)
PERIOD_NOT_AFTER_PREVIOUS = READER.add(
    "period_not_after_previous", WARNING,
    "Rapportperioden börjar {start}, men föregående lägesrapport, {previous}, slutade {end}: perioden brukar "
    "börja dagen efter, {expected}. Kontrollera datumen.", ROLLED_FORWARD)

# What the file is (safety/): looked up by the kind found (READER[kind]), an archive without a
# workbook as zip_no_workbook.
READER.add(
    "lock_file", WARNING,
    "Filen är en tillfällig låsfil som Excel eller LibreOffice skapar medan en arbetsbok är öppen. Den är ingen "
    "rapport och hoppas över.", FILE_KIND)
READER.add("empty", ERROR, "Filen är tom (0 byte). Den kan ha skadats vid kopiering eller e-post. " + SEND_AGAIN,
           FILE_KIND)
READER.add("xls", ERROR, "Filen är sparad i det gamla Excel-formatet (.xls, Excel 97–2003) och kan inte läsas. "
           + SAVE_AS_XLSX, FILE_KIND)
READER.add(
    "encrypted", ERROR,
    "Arbetsboken är lösenordsskyddad (krypterad) och kan inte öppnas. Ta bort lösenordet (Arkiv → Information → "
    "Skydda arbetsbok → Kryptera med lösenord, töm fältet) och spara den som Excel-arbetsbok (.xlsx). Mallens "
    "bladskydd är ingen kryptering och gör inget.", FILE_KIND)
READER.add("ole2", ERROR, "Filen är i ett äldre Office-format som inte kan läsas. " + SAVE_AS_XLSX, FILE_KIND)
READER.add("doc", ERROR, "Filen är ett Word-dokument (.doc), inte en Excel-arbetsbok. Fyll i rapporten i RAR:s "
           "Excel-mall.", FILE_KIND)
READER.add("docx", ERROR, "Filen är ett Word-dokument (.docx), inte en Excel-arbetsbok. Fyll i rapporten i RAR:s "
           "Excel-mall.", FILE_KIND)
READER.add("pptx", ERROR, "Filen är en PowerPoint-presentation, inte en Excel-arbetsbok. Fyll i rapporten i RAR:s "
           "Excel-mall.", FILE_KIND)
READER.add("ods", ERROR, "Filen är sparad i OpenDocument-format (.ods, t.ex. från LibreOffice). Spara den som "
           "Excel-arbetsbok: Arkiv → Spara som → filtyp Excel 2007-365 (.xlsx).", FILE_KIND)
READER.add("odf", ERROR, "Filen är ett OpenDocument-dokument, inte en Excel-arbetsbok. Fyll i rapporten i RAR:s "
           "Excel-mall.", FILE_KIND)
READER.add("xlsb", ERROR, "Filen är sparad som binär Excel-arbetsbok (.xlsb) och kan inte läsas. " + SAVE_AS_XLSX,
           FILE_KIND)
READER.add("csv", ERROR, "Filen är en textfil (t.ex. CSV), inte en Excel-arbetsbok. Fyll i rapporten i RAR:s mall "
           "och spara den som Excel-arbetsbok (.xlsx).", FILE_KIND)
READER.add("html", ERROR, "Filen är en webbsida (HTML) med filändelse för Excel, inte en Excel-arbetsbok. "
           + SAVE_AS_XLSX, FILE_KIND)
READER.add("xml_spreadsheet", ERROR, "Filen är sparad som XML-kalkylblad (Excel 2003), inte som Excel-arbetsbok. "
           + SAVE_AS_XLSX, FILE_KIND)
READER.add("pdf", ERROR, "Filen är en PDF, inte en Excel-arbetsbok. Skicka den ifyllda Excel-filen i stället.",
           FILE_KIND)
READER.add("zip_no_workbook", ERROR, "Filen är ett zip-arkiv utan Excel-arbetsbok i. Skicka själva Excel-filen "
           "(.xlsx), inte ett arkiv.", FILE_KIND)
READER.add("truncated", ERROR, "Filen är ofullständig eller skadad (zip-arkivet går inte att öppna); den kan ha "
           "avbrutits vid kopiering eller e-post. " + SEND_AGAIN, FILE_KIND)
READER.add("unknown", ERROR, "Filen är ingen Excel-arbetsbok och dess format känns inte igen. " + SAVE_AS_XLSX,
           FILE_KIND)
UNREADABLE = READER.add("unreadable", ERROR, "Filen kunde inte läsas ({reason}).", FILE_KIND)

# Parts of a readable workbook that are never used (safety/archive.py).
MACROS = READER.add(
    "macros", WARNING,
    "Arbetsboken innehåller makron. Makron körs aldrig här och ignoreras; spara gärna rapporten som vanlig "
    "Excel-arbetsbok (.xlsx).", FILE_KIND)
EXTERNAL_LINKS = READER.add(
    "external_links", WARNING,
    "Arbetsboken har länkar till andra filer. Länkarna följs aldrig och uppdateras inte; skriv svaren direkt i "
    "cellerna i stället för att hämta dem från en annan fil.", FILE_KIND)
EMBEDDED_OBJECTS = READER.add(
    "embedded_objects", WARNING, "Arbetsboken innehåller inbäddade objekt. De öppnas aldrig och ignoreras.",
    FILE_KIND)

# Hard limits (safety/).
FILE_TOO_LARGE = READER.add(
    "file_too_large", ERROR,
    "Filen är {size}; en rapport är högst några hundra kB och filer över {limit} läses inte. " + SEND_AGAIN,
    HARD_LIMITS)
TOO_MANY_ENTRIES = READER.add(
    "too_many_entries", ERROR,
    "Filen innehåller {count} delar; en arbetsbok har sällan fler än 50 och högst {limit} godtas. "
    + _REFUSED_SEND_AGAIN, HARD_LIMITS)
_ZIP_BOMB = " (en så kallad zip-bomb eller en skadad fil). " + _REFUSED_SEND_AGAIN
ZIP_BOMB = READER.add("zip_bomb", ERROR, {
    "total": "Filen packas upp till {size}; högst {limit} godtas" + _ZIP_BOMB,
    "streamed": "Filen packas upp till mer än {limit}" + _ZIP_BOMB,
    "part": "Filen har en del som packas upp till {size}; högst {limit} godtas" + _ZIP_BOMB,
    "ratio": "Filen har en del som packas upp {ratio} gånger; högst {limit:.0f} gånger godtas för delar över "
    "{floor}" + _ZIP_BOMB,
}, HARD_LIMITS)
_SHEET_LIMITS = (
    "har celler ända ned till rad {rows} och kolumn {cols}; en rapport använder några hundra rader, och högst "
    "{max_rows} rader, {max_cols} kolumner och {max_cells} celler godtas. " + REFUSED + " Ta bort innehållet "
    "långt ned eller långt till höger och spara igen."
)
SHEET_TOO_LARGE = READER.add("sheet_too_large", ERROR, {
    "": "Bladet " + _SHEET_LIMITS,
    "named": "Bladet ”{sheet_name}” " + _SHEET_LIMITS,
}, HARD_LIMITS)
UNUSED_CONTENT = READER.add("unused_content", ERROR, {
    "parts": "Filen innehåller {size} som blanketten inte använder (andra blad, bilder eller bifogade filer); "
    "högst {limit} godtas, och en ifylld Lägesrapport har under 0,1 MB sådant. " + REFUSED + " " + NEW_TEMPLATE,
    "cells": "Ett av blankettens blad har fler än {limit} ifyllda celler; mallen har några hundra. Det som "
    "har klistrats in utanför svarsrutorna gör filen för tung att läsa. " + REFUSED + " " + NEW_TEMPLATE,
    "strings": "Filen har fler än {limit} olika texter; en ifylld Lägesrapport har några hundra. " + REFUSED
    + " " + NEW_TEMPLATE,
}, HARD_LIMITS)

# Hostile content (safety/).
PATH_TRAVERSAL = READER.add(
    "path_traversal", ERROR,
    "Filen innehåller en ogiltig sökväg ({name!r}) som aldrig förekommer i en arbetsbok. " + _REFUSED_SEND_AGAIN,
    HOSTILE)
DUPLICATE_ENTRY = READER.add(
    "duplicate_entry", ERROR,
    "Filen innehåller samma del två gånger, vilket aldrig förekommer i en arbetsbok. " + _REFUSED_SEND_AGAIN,
    HOSTILE)
ZIP_ENCRYPTED_ENTRY = READER.add(
    "zip_encrypted_entry", ERROR, "Delar av filen är krypterade med lösenord och kan inte läsas. " + SAVE_AS_XLSX,
    HOSTILE)
UNSUPPORTED_COMPRESSION = READER.add(
    "unsupported_compression", ERROR,
    "Filen är packad med en komprimering som Excel aldrig använder. " + _REFUSED_SEND_AGAIN, HOSTILE)
XML_ENCODING = READER.add(
    "xml_encoding", ERROR,
    "Filen innehåller XML i en teckenkodning som Excel och LibreOffice aldrig använder. " + _REFUSED_SEND_AGAIN,
    HOSTILE)
XML_DTD = READER.add(
    "xml_dtd", ERROR,
    "Filen innehåller XML-deklarationer (DTD/ENTITY) som aldrig förekommer i en arbetsbok från Excel eller "
    "LibreOffice och kan användas för angrepp. " + _REFUSED_SEND_AGAIN, HOSTILE)
XML_DAMAGED = READER.add(
    "xml_damaged", ERROR,
    "Filen är skadad: en del av arbetsboken är inte giltig XML ({reason}, rad {line}). " + SEND_AGAIN, HOSTILE)
XML_UNUSUAL = READER.add(
    "xml_unusual", ERROR,
    "Filen innehåller cellreferenser i en form som Excel och LibreOffice aldrig skriver. " + _REFUSED_SEND_AGAIN,
    HOSTILE)

# --- the consolidation: consolidate/parallel.py ------------------------------------------------

CONSOLIDATION = Catalogue("consolidation")

# A file whose reading crashed: its rejection, never the batch's end. (The batch's comparison with the
# report before, statuses.compare_with_earlier, raises the reader's rules codes: previous_*.)
BATCH_INTERNAL_ERROR = CONSOLIDATION.add("internal_error", ERROR, {
    "worker_died": "Filen kunde inte läsas (processen som läste filen avslutades oväntat, till exempel för att "
                   "minnet tog slut). Kontrollera att filen är en ifylld Lägesrapport och kontakta den som "
                   "ansvarar för programmet om felet kvarstår.",
    "crash": "Filen kunde inte läsas (ett fel i programmet: {error}). Kontrollera att filen är en ifylld "
             "Lägesrapport och kontakta den som ansvarar för programmet om felet kvarstår.",
}, FILE_AND_TEMPLATE)

# What the web intake knows and the file does not: when it was received (consolidate/receipts.py).
SIGNED_AFTER_RECEIPT = CONSOLIDATION.add(
    "signed_after_receipt", ERROR,
    "Rapporten är daterad {signed}, efter dagen RAR tog emot den ({received}). Ett underskriftsdatum kan inte "
    "ligga efter dagen rapporten skickades: rätta datumet och skicka filen igen.",
    "web.md#vilken-fil-som-gäller")

# Every layer's catalogue; another layer appends its own (see the module's docstring).
CATALOGUES: tuple[Catalogue, ...] = (READER, CONSOLIDATION)
