"""For instructors: `new.py` scaffolds an exercise or a quiz (`grade new`), `validate.py` proves one right
(`grade validate`: solution passes, starter fails, every mutant caught by the checks it names)."""
