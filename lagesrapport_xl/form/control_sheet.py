"""The texts and columns of the open control sheet (spec.control_sheet, "Kontroll").

The template writes the sheet empty with these texts; the Validera button (excel/feedback.py) and
the annotated copies (reader/annotate.py) fill its list of problems with these columns, so all
three look alike. Plain data, so the reader and the web need not import the template writer.
"""

CONTROL_TITLE = "Kontroll av lägesrapporten"
CONTROL_NOT_CHECKED = (
    "Inte kontrollerad ännu. Klicka på knappen Validera på bladet Lägesrapport (kräver tillägget "
    "xlwings eller xlwings Lite); utan tillägg visar statusrutan överst på det bladet vad som saknas."
)
CONTROL_NOTE = (
    "Här listas varje fel och varning med blad, cell och fråga. Bladet skrivs om varje gång du klickar "
    "på Validera och skrivs inte ut med rapporten."
)
CONTROL_COLUMNS = (  # (header, width in characters)
    ("Allvar", 9), ("Blad", 14), ("Cell", 8), ("Fråga", 45), ("Värde", 24), ("Meddelande", 90),
)
