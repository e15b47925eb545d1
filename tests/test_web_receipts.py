"""Which file counts is what happened (issue 20, point 3): RAR's page and `lagesrapport consolidate
--state` agree over the same inbox, and the master's Kontroll sheet says why each superseded file
was superseded, by the receipt order."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

from test_web_http import cell_values, make_client, web
from webtools import (  # noqa: F401
    ANSWERS, BROKEN, CORRECTED, FIRST, GOOD, WARNED, api_send, examples, login, register_file, send,
)

from lagesrapport_xl.cli import main as cli_main
from lagesrapport_xl.template.writer import write_template
from lagesrapport_xl.web.overview import build_overview


def test_the_page_and_consolidate_with_the_state_folder_agree_on_what_counts_and_why(tmp_path: Path, examples) -> None:
    register = register_file(tmp_path)
    client = make_client(tmp_path, register=register)
    for name in (FIRST, CORRECTED, FIRST, BROKEN, WARNED):  # Steget's first version sent again: it counts
        send(client, examples[name].read_bytes(), name)
    future = dict(ANSWERS[WARNED], signed_date=dt.date(2099, 12, 31), deviations="Allt gick bra.")
    send(client, write_template(tmp_path / "framtid.xlsx", answers=future).read_bytes(), "framtid.xlsx", WARNED)
    client.post("/api/uploads", files={"file": (GOOD, examples[GOOD].read_bytes())})  # a check only
    settings = web(client).settings
    by_hand = settings.inbox / "lagd_for_hand_Unga_vuxna.xlsx"  # a file RAR put in the inbox itself
    shutil.copy(examples["Unga_vuxna_i_Flen_rapport_2.xlsx"], by_hand)
    os.utime(by_hand, (1_700_000_000, 1_700_000_000))

    login(client)
    rows = {row["case_number"]: row for row in client.get("/rar/status.json").json()["rows"]}
    master = tmp_path / "kommandot.xlsx"
    assert cli_main(["consolidate", str(settings.inbox), "-o", str(master), "-q", "--state", str(settings.state),
                     "--register", str(register)]) == 0
    kontroll = {row[0]: row for row in cell_values(master)["Kontroll"]
                if row and isinstance(row[0], str) and (settings.inbox / row[0]).is_file() and row[1] != "Inkommen"}
    page = build_overview(web(client).intake)
    assert {name: outcome.status.value for name, outcome in page.outcomes.items()} == {
        name: row[1] for name, row in kontroll.items()}
    steget = rows["2021-0007"]
    assert steget["accepted"].endswith(FIRST) and steget["superseded"][0].endswith(CORRECTED)
    assert kontroll[steget["accepted"]][1] == "Godkänd"
    reason = kontroll[steget["superseded"][0]][8]  # Problem
    assert reason.startswith(f"Ersatt av {steget['accepted']}. Samma insats och lägesrapport nr 2 finns i")
    assert "den senast mottagna gäller: den togs emot 20" in reason and "den här filen togs emot 20" in reason
    assert rows["2021-0021"]["accepted"] == by_hand.name  # by hand: its modification time is its receipt
    [future_file] = [name for name, row in kontroll.items() if name.endswith("framtid.xlsx")]
    assert kontroll[future_file][1] == "Avvisad" and "efter dagen RAR tog emot den" in kontroll[future_file][8]
    assert len(kontroll) == 6  # four files sent (the first version stored once), the future one, the one by hand
    # The same inbox without the server's account ranks by the files' own dates: the correction wins there.
    plain = tmp_path / "utan_state.xlsx"
    assert cli_main(["consolidate", str(settings.inbox), "-o", str(plain), "-q"]) == 0
    statuses = {row[0]: row[1] for row in cell_values(plain)["Kontroll"] if row and row[0] in kontroll}
    assert statuses[steget["superseded"][0]] == "Godkänd" and statuses[steget["accepted"]] == "Ersatt"
    assert cli_main(["consolidate", str(settings.inbox), "-o", str(plain), "-q", "--approved-only"]) == 2
    assert cli_main(["consolidate", str(settings.inbox), "-o", str(plain), "-q", "--state", str(tmp_path)]) == 2


def test_a_receipts_json_is_what_a_deep_copy_of_it_gave_and_leaves_the_receipt_alone(tmp_path: Path, examples) -> None:
    """Receipt.to_json takes its fields one level deep (asdict's deep copy cost 8 % of the server's
    interpreter under uploads): the same JSON as before for real uploads, with and without issues."""
    import dataclasses
    import json

    client = make_client(tmp_path)
    intake = web(client).intake
    for name in (GOOD, BROKEN, WARNED):
        token = api_send(client, examples[name].read_bytes(), name).json()["receipt"]["token"]
        receipt = intake.receipt(token)
        before = json.dumps(receipt.result, sort_keys=True)
        reference = dataclasses.asdict(receipt)
        reference |= {"outcome": receipt.outcome.value, "verdict": receipt.verdict,
                      "received": receipt.received.isoformat(),
                      "already_received": receipt.already_received.isoformat() if receipt.already_received else None,
                      "supersedes": list(receipt.supersedes), "shown": list(receipt.shown)}
        data = receipt.to_json()
        assert json.dumps(data, sort_keys=True) == json.dumps(reference, sort_keys=True)
        assert (name == GOOD) == (not receipt.issues)
        assert type(receipt).from_json(json.loads(json.dumps(data))) == receipt
        assert json.dumps(receipt.result, sort_keys=True) == before
