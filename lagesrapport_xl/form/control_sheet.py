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
# A template made without the button (the default until RAR deploys the add-in) says so instead.
CONTROL_NOT_CHECKED_NO_BUTTON = (
    "Här listar RAR:s kontroll varje fel och varning, i den kontrollkopia du får när du kontrollerar eller "
    "skickar rapporten. Statusrutan överst på bladet Lägesrapport visar det som mallen själv ser."
)
CONTROL_NOTE_NO_BUTTON = "Bladet skrivs inte ut med rapporten."
CONTROL_COLUMNS = (  # (header, width in characters)
    ("Allvar", 9), ("Blad", 14), ("Cell", 8), ("Fråga", 45), ("Värde", 24), ("Meddelande", 90),
)
