"""Make the English catalog complete: every message translates to its own English msgid."""

import sys

from babel.messages.pofile import read_po, write_po

path = sys.argv[1]
with open(path, "rb") as f:
    catalog = read_po(f, locale="en")
for message in catalog:
    if not message.id:
        continue
    message.flags.discard("fuzzy")
    message.string = message.id
with open(path, "wb") as f:
    write_po(f, catalog, width=0, omit_header=False, sort_output=True)
