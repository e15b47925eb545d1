"""Realistic filled Lägesrapporter: the demo set in workbook_templates/examples/ and bulk sets for
the benchmark.

Everything is derived deterministically from a few facts per insats (period, granted budget,
planned participants, how fast money is spent), so the figures are consistent the way real
reports are: cumulative utfall is the sum of the period utfall, financing balances the costs, and
the self-assessment "in line with budget" mostly follows the numbers. The files are written with
`write_template(answers=...)`, which stores values as Excel stores what a person types.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from lagesrapport_xl.form.spec import FormSpec, default_spec
from lagesrapport_xl.template.rollforward import add_months
from lagesrapport_xl.template.writer import write_template

# Share of the granted budget per cost line (lines a RAR override adds get nothing).
LINE_WEIGHTS = {
    "staff": 0.62,
    "services": 0.08,
    "premises": 0.05,
    "travel": 0.03,
    "equipment": 0.02,
    "participants": 0.06,
    "training": 0.04,
    "other": 0.02,
    "indirect": 0.08,
}


@dataclass(frozen=True)
class Insats:
    """The facts of one insats; every report of it is computed from these."""

    case_number: str
    name: str
    start: dt.date
    months: int
    granted: int  # kronor for the whole period
    rar_share: float  # the rest is the organisations' own co-financing
    women: tuple[int, int] | None  # planned range; None: not individual-oriented
    men: tuple[int, int] | None
    pace: tuple[float, ...]  # utfall / budget per report period
    texts: dict[str, tuple[str, ...]] = field(default_factory=dict)
    chair: str = ""

    @property
    def end(self) -> dt.date:
        return add_months(self.start, self.months) - dt.timedelta(days=1)

    @property
    def reports_total(self) -> int:
        return -(-self.months // 6)


@dataclass(frozen=True)
class ExampleFile:
    name: str
    answers: dict[str, Any]


def _round(value: float, step: int = 100) -> int:
    return int(round(value / step)) * step


def _pick(texts: tuple[str, ...], number: int) -> str:
    return texts[(number - 1) % len(texts)]


def report_answers(insats: Insats, number: int, spec: FormSpec | None = None, *, months: int = 6) -> dict[str, Any]:
    """The complete, valid answers of report `number` of `insats` (each period six months long)."""
    spec = spec or default_spec()
    period_start = add_months(insats.start, 6 * (number - 1))
    period_end = min(add_months(period_start, months) - dt.timedelta(days=1), insats.end)
    total_days = (insats.end - insats.start).days + 1
    rng = random.Random(f"{insats.case_number}/{number}")
    values: dict[str, Any] = {
        "case_number": insats.case_number,
        "initiative_name": insats.name,
        "initiative_start": insats.start,
        "initiative_end": insats.end,
        "period_start": period_start,
        "period_end": period_end,
        "report_number": number,
        "reports_total": insats.reports_total,
        "chair_name": insats.chair,
        "signed_date": period_end + dt.timedelta(days=12 + rng.randint(0, 9)),
        "individual_oriented": "Ja" if insats.women is not None else "Nej",
    }
    for key in ("activities", "deviations", "upcoming_activities", "implementation_status", "gender_comment"):
        if insats.texts.get(key):
            values[key] = _pick(insats.texts[key], number)
    _add_budget(values, insats, number, spec, total_days, rng)
    _add_participants(values, insats, number)
    _assess_budget(values, insats, spec)
    return values


def _add_budget(values: dict[str, Any], insats: Insats, number: int, spec: FormSpec, total_days: int, rng: random.Random) -> None:
    columns = ("budget_total", "budget_period", "actual_period", "actual_cumulative")
    sums = dict.fromkeys(columns, 0)
    for line in spec.budget.lines:
        granted = _round(insats.granted * LINE_WEIGHTS.get(line.key, 0.0), 1000)
        cumulative = 0
        for k in range(1, number + 1):
            start = add_months(insats.start, 6 * (k - 1))
            end = min(add_months(start, 6) - dt.timedelta(days=1), insats.end)
            budget = _round(granted * ((end - start).days + 1) / total_days)
            line_rng = random.Random(f"{insats.case_number}/{k}/{line.key}")
            actual = _round(budget * insats.pace[(k - 1) % len(insats.pace)] * line_rng.uniform(0.85, 1.1))
            cumulative += actual
        figures = (granted, budget, actual, cumulative)
        for column, amount in zip(columns, figures):
            values[spec.budget_key(line.key, column)] = Decimal(amount)
            sums[column] += amount
    for index, financing in enumerate(spec.budget.financing):
        for column in columns:
            rar = _round(sums[column] * insats.rar_share, 1)
            amount = rar if index == 0 else (sums[column] - rar if index == 1 else 0)
            values[spec.budget_key(financing.key, column)] = Decimal(amount)
    if insats.pace[(number - 1) % len(insats.pace)] < 0.8:
        staff = spec.budget_key("staff", "comment")
        if staff in spec.fields:
            values[staff] = "Vakans under delar av perioden."


def _add_participants(values: dict[str, Any], insats: Insats, number: int) -> None:
    if insats.women is None or insats.men is None:
        return
    progress = min(1.0, number / max(1, insats.reports_total - 1))
    below = False
    for group, (low, high) in (("women", insats.women), ("men", insats.men)):
        actual = round((low + high) / 2 * progress * (1.15 if group == "women" else 0.8))
        values[f"{group}_planned_min"] = low
        values[f"{group}_planned_max"] = high
        values[f"{group}_actual"] = actual
        below = below or actual < low
    if below:
        values["below_plan_reason"] = _pick(insats.texts.get("below_plan_reason", ("Rekryteringen har gått långsammare än planerat.",)), number)
    values["participant_outcomes"] = _pick(
        insats.texts.get("participant_outcomes", ("Flera deltagare har gått vidare till arbete eller studier.",)), number
    )


def _assess_budget(values: dict[str, Any], insats: Insats, spec: FormSpec, tolerance: float = 0.15) -> None:
    """Answer "in line with budget?" the way the numbers say (the demo then flips one on purpose)."""
    granted = sum(float(values[spec.budget_key(line.key, "budget_total")]) for line in spec.budget.lines)
    spent = sum(float(values[spec.budget_key(line.key, "actual_cumulative")]) for line in spec.budget.lines)
    total_days = (insats.end - insats.start).days + 1
    elapsed = max(0.0, min(1.0, ((values["period_end"] - insats.start).days + 1) / total_days))
    expected = granted * elapsed
    in_line = abs(spent - expected) <= tolerance * expected if expected else spent == 0
    values["budget_on_track"] = "Ja" if in_line else "Nej"
    if not in_line:
        values["budget_deviation_reason"] = insats.texts.get(
            "budget_deviation_reason", ("Personalkostnaderna blev lägre än planerat på grund av vakanser.",)
        )[0]


# --- the demo set -----------------------------------------------------------------------------

DEMO_INSATSER = (
    Insats(
        case_number="2020-0042",
        name="Nyttiga affärer",
        start=dt.date(2021, 1, 1),
        months=36,
        granted=2_580_000,
        rar_share=0.9,
        women=(8, 12),
        men=(8, 12),
        pace=(0.55, 0.8, 0.95, 1.0),
        chair="Anna Andersson",
        texts={
            "activities": (
                "Affärsrådgivning och coaching till sociala företag i nätverket, cirka 40 rådgivningstillfällen.\n"
                "En nätverksträff för sociala företag i länet om nuläge och behov.",
                "Affärsprogram för utrikes födda kvinnor med tolv träffar i Nyköping och Katrineholm.\n"
                "Två nya sociala företag har registrerats.",
                "Mentorsprogram med fem företagare från nätverket. Studiebesök hos Coompanion i Västerås.",
            ),
            "deviations": (
                "Rekryteringen av deltagare har tagit längre tid än planerat; insatsen riktas nu främst till utrikes födda kvinnor.",
            ),
            "upcoming_activities": (
                "Affärsprogram för utrikes födda kvinnor november 2021–januari 2022.",
                "Ett andra affärsprogram startar i Katrineholm. Uppföljning av deltagarna efter sex månader.",
                "Slutkonferens för nätverket och överlämning till ordinarie verksamhet.",
            ),
            "implementation_status": (
                "Nätverket för sociala företag är etablerat. Samarbetet med Nyköpings kommun är formaliserat.",
                "Implementeringen följer planen; kommunens näringslivsenhet tar över rådgivningen efter projekttiden.",
            ),
            "gender_comment": ("Fokus på utrikes födda kvinnor, vars arbetslöshet är betydligt högre än mäns.",),
            "below_plan_reason": ("Insatsen har riktats om till utrikes födda kvinnor, därför är andelen män låg.",),
            "participant_outcomes": (
                "En deltagare har fått anställning och två har startat eget företag.",
                "Fyra deltagare har gått vidare till arbete, en till studier.",
            ),
            "budget_deviation_reason": ("Kommunikatören slutade och tjänsten har varit vakant i fyra månader.",),
        },
    ),
    Insats(
        case_number="2021-0007",
        name="Steget vidare Katrineholm",
        start=dt.date(2021, 9, 1),
        months=36,
        granted=4_200_000,
        rar_share=1.0,
        women=(20, 30),
        men=(20, 30),
        pace=(0.9, 1.0, 1.05),
        chair="Bengt Karlsson",
        texts={
            "activities": (
                "Gemensamt team med Arbetsförmedlingen, Försäkringskassan och kommunens arbetsmarknadsenhet har startat. "
                "Kartläggning av 34 deltagare.",
                "Arbetsträning hos sex arbetsgivare. Individuella handlingsplaner för alla deltagare.",
                "Gruppverksamhet om hälsa och vardagsstruktur två dagar i veckan.",
            ),
            "upcoming_activities": (
                "Fler praktikplatser inom kommunens förvaltningar. Utbildning av handledare.",
                "Utvärdering tillsammans med FoU i Sörmland.",
            ),
            "implementation_status": (
                "Teamet arbetar enligt plan. Styrgruppen har beslutat om en modell för fortsatt samverkan.",
            ),
            "gender_comment": ("Könsfördelningen är jämn. Kvinnorna har oftare långa sjukskrivningar bakom sig.",),
            "participant_outcomes": (
                "Sju deltagare har gått vidare till arbete eller studier, tre har fått lönebidragsanställning.",
                "Tolv deltagare har minskat sitt behov av försörjningsstöd.",
            ),
        },
    ),
    Insats(
        case_number="2022-0013",
        name="Hälsa och arbete Eskilstuna",
        start=dt.date(2022, 1, 1),
        months=24,
        granted=1_600_000,
        rar_share=0.85,
        women=(15, 25),
        men=(10, 15),
        pace=(0.7, 1.2, 1.1),
        chair="Cecilia Lind",
        texts={
            "activities": (
                "Arbetsterapeut och fysioterapeut från Region Sörmland träffar deltagarna på vårdcentralen.",
                "Samtalsgrupper om stress och sömn. Gemensamma möten med Försäkringskassan.",
            ),
            "upcoming_activities": ("Start av en andra grupp i Torshälla.", "Avslutande uppföljning och rapport."),
            "implementation_status": ("Vårdcentralen vill fortsätta arbetssättet inom ordinarie budget.",),
            "participant_outcomes": ("Fem deltagare har ökat sin arbetstid eller börjat arbetsträna.",),
            "budget_deviation_reason": ("Högre lokalkostnader och en extra grupp under hösten.",),
        },
    ),
    Insats(
        case_number="2021-0021",
        name="Unga vuxna i Flen",
        start=dt.date(2021, 7, 1),
        months=24,
        granted=1_150_000,
        rar_share=1.0,
        women=(10, 15),
        men=(15, 20),
        pace=(0.6, 0.65),
        chair="David Nilsson",
        texts={
            "activities": (
                "Uppsökande arbete tillsammans med kommunens aktivitetsansvar. Öppen verksamhet två eftermiddagar i veckan.",
                "Studiecirklar och praktik i kommunens fritidsverksamhet.",
            ),
            "deviations": ("Projektledaren var föräldraledig under perioden och ersattes först efter tre månader.",),
            "upcoming_activities": ("Sommarjobb i samarbete med lokala företag.",),
            "implementation_status": ("Arbetssättet ska föras in i kommunens ungdomsmottagning.",),
            "below_plan_reason": ("Det har varit svårare än väntat att nå unga kvinnor; vi samarbetar nu med ungdomsmottagningen.",),
            "participant_outcomes": ("Sex unga har börjat studera på Komvux och fyra har fått sommarjobb.",),
            "budget_deviation_reason": ("Lönekostnaderna blev lägre eftersom projektledartjänsten var vakant.",),
        },
    ),
    Insats(
        case_number="2022-0030",
        name="Samverkansforum Vingåker",
        start=dt.date(2022, 3, 1),
        months=24,
        granted=640_000,
        rar_share=1.0,
        women=None,
        men=None,
        pace=(0.95, 1.0),
        chair="Eva Berg",
        texts={
            "activities": (
                "Fyra forumträffar för chefer inom kommun, Arbetsförmedling, Försäkringskassa och vårdcentral.",
                "Gemensam utbildningsdag om samordnad rehabilitering med 60 deltagande handläggare.",
            ),
            "upcoming_activities": ("Kartläggning av gemensamma målgrupper och en handlingsplan för 2024.",),
            "implementation_status": ("Forumet är en del av kommunens ordinarie samverkansstruktur från 2024.",),
        },
    ),
)


def _demo_name(insats: Insats, number: int, suffix: str = "") -> str:
    stem = insats.name.replace(" ", "_").replace("ä", "a").replace("å", "a").replace("ö", "o").replace("Ä", "A")
    return f"{stem}_rapport_{number}{suffix}.xlsx"


def demo_files(spec: FormSpec | None = None) -> list[ExampleFile]:
    """The demo set: five insatser, fifteen files — warnings, a rejected report and a duplicate."""
    spec = spec or default_spec()
    nyttiga, steget, halsa, unga, forum = DEMO_INSATSER
    files = []
    for insats, numbers in ((nyttiga, (1, 2, 3)), (steget, (1, 2, 3)), (halsa, (1, 2)), (unga, (1, 2)), (forum, (1, 2))):
        for number in numbers:
            files.append(ExampleFile(_demo_name(insats, number), report_answers(insats, number, spec)))

    # A report period of nine months: accepted, with a warning about the period's length.
    files.append(ExampleFile(_demo_name(nyttiga, 4), report_answers(nyttiga, 4, spec, months=9)))
    # Steget vidare sent report 2 again with a corrected budget: the later signature wins.
    revised = report_answers(steget, 2, spec)
    revised["signed_date"] = revised["signed_date"] + dt.timedelta(days=14)
    key = spec.budget_key("travel", "actual_period")
    revised[key] = revised[key] + Decimal(1_200)
    for cumulative_key in (spec.budget_key("travel", "actual_cumulative"),):
        revised[cumulative_key] = revised[cumulative_key] + Decimal(1_200)
    _rebalance_financing(revised, spec, 1.0)
    revised["deviations"] = "Rättad version: resekostnader för två studiebesök saknades i första versionen."
    files.append(ExampleFile(_demo_name(steget, 2, "_rattad"), revised))
    # Steget vidare, report 3: own co-financing typed with a digit too many (a warning, not an error).
    for example in files:
        if example.answers["case_number"] == steget.case_number and example.answers["report_number"] == 3:
            own = spec.budget.financing[min(1, len(spec.budget.financing) - 1)].key
            for column in ("actual_period", "actual_cumulative"):
                key = spec.budget_key(own, column)
                example.answers[key] = example.answers[key] + Decimal(9_000)
    # Unga vuxna, report 2 says "Ja" although the numbers are far below the budget: flagged.
    for example in files:
        if example.answers["case_number"] == unga.case_number and example.answers["report_number"] == 2:
            example.answers["budget_on_track"] = "Ja"
            example.answers.pop("budget_deviation_reason", None)
    # Hälsa och arbete, report 3: an amount nobody can read without guessing and a missing answer.
    broken = report_answers(halsa, 3, spec)
    broken[spec.budget_key("premises", "actual_period")] = "ca 40 000"
    broken.pop("activities", None)
    files.append(ExampleFile(_demo_name(halsa, 3), broken))
    return files


# An insats of the demo register that has sent nothing: the demo's "Saknas".
SILENT_INSATS = Insats(
    case_number="2022-0051",
    name="Vägen till jobb Gnesta",
    start=dt.date(2022, 9, 1),
    months=24,
    granted=900_000,
    rar_share=1.0,
    women=(6, 10),
    men=(6, 10),
    pace=(1.0,),
    chair="Fredrik Ek",
)
DEMO_REGISTER = "register_exempelrapporter.xlsx"  # beside examples/, never inside: consolidate reads all there


def demo_register(spec: FormSpec | None = None) -> list[dict[str, Any]]:
    """RAR's register for the demo set, as `write_register_workbook` takes it: each demo insats at
    the latest report it sent, and one insats that sent nothing. Against the demo set every state
    shows: received, only rejected files (Hälsa och arbete, report 3) and missing."""
    spec = spec or default_spec()
    latest: dict[str, int] = {}
    for example in demo_files(spec):
        case, number = example.answers["case_number"], example.answers["report_number"]
        latest[case] = max(number, latest.get(case, 0))
    wanted = [(insats, latest[insats.case_number]) for insats in DEMO_INSATSER] + [(SILENT_INSATS, 1)]
    return [
        {key: value for key, value in report_answers(insats, number, spec).items() if spec.fields[key].prefill}
        for insats, number in wanted
    ]


def write_demo_register(path: str | Path, spec: FormSpec | None = None) -> Path:
    """The demo register as an Excel register (deterministic bytes, like the examples)."""
    from lagesrapport_xl.template.prefill import write_register_workbook

    return write_register_workbook(path, spec, demo_register(spec))


def _rebalance_financing(values: dict[str, Any], spec: FormSpec, rar_share: float) -> None:
    for column in ("budget_total", "budget_period", "actual_period", "actual_cumulative"):
        total = sum(int(values[spec.budget_key(line.key, column)]) for line in spec.budget.lines)
        rar = _round(total * rar_share, 1)
        for index, financing in enumerate(spec.budget.financing):
            values[spec.budget_key(financing.key, column)] = Decimal(rar if index == 0 else total - rar if index == 1 else 0)


# --- bulk sets for the benchmark --------------------------------------------------------------

_PLACES = ("Eskilstuna", "Katrineholm", "Nyköping", "Strängnäs", "Flen", "Gnesta", "Oxelösund", "Trosa", "Vingåker")
_THEMES = ("Steget vidare", "Hälsa och arbete", "Unga vuxna", "Samverkansforum", "Vägen till jobb", "Språk och praktik")


def bulk_files(count: int, spec: FormSpec | None = None, *, reports_per_insats: int = 4) -> list[ExampleFile]:
    """`count` valid reports, `reports_per_insats` per insats, all figures consistent (benchmark)."""
    spec = spec or default_spec()
    files: list[ExampleFile] = []
    index = 0
    while len(files) < count:
        template = DEMO_INSATSER[index % len(DEMO_INSATSER)]
        rng = random.Random(index)
        insats = Insats(
            case_number=f"{2020 + index % 5}-{1000 + index:04d}",
            name=f"{_THEMES[index % len(_THEMES)]} {_PLACES[index % len(_PLACES)]} {index + 1}",
            start=add_months(dt.date(2020, 1, 1), index % 24),
            months=6 * max(reports_per_insats, 2),
            granted=_round(rng.uniform(400_000, 5_000_000), 10_000),
            rar_share=template.rar_share,
            women=template.women,
            men=template.men,
            pace=template.pace,
            chair=template.chair,
            texts=template.texts,
        )
        for number in range(1, reports_per_insats + 1):
            if len(files) == count:
                break
            files.append(ExampleFile(f"insats_{index + 1:04d}_rapport_{number}.xlsx", report_answers(insats, number, spec)))
        index += 1
    return files


def write_examples(folder: str | Path, files: list[ExampleFile], spec: FormSpec | None = None) -> list[Path]:
    """Write each example as a filled template (deterministic bytes: same input, same file)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return [write_template(folder / example.name, spec, answers=example.answers) for example in files]


__all__ = [
    "DEMO_INSATSER",
    "DEMO_REGISTER",
    "ExampleFile",
    "Insats",
    "SILENT_INSATS",
    "bulk_files",
    "demo_files",
    "demo_register",
    "main",
    "report_answers",
    "write_demo_register",
    "write_examples",
]


def main(argv: list[str] | None = None) -> int:
    """`python -m lagesrapport_dev.examples [MAPP [REGISTER]]`: (re)write the demo set and its
    register (by default DEMO_REGISTER beside the folder; scripts/make-examples)."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0] if args else "workbook_templates/examples")
    register = Path(args[1]) if len(args) > 1 else folder.parent / DEMO_REGISTER
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.xlsx"):
        stale.unlink()
    paths = write_examples(folder, demo_files())
    print(f"{len(paths)} exempelrapporter skrivna i {folder}")
    print(f"Registret över dem: {write_demo_register(register)}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
