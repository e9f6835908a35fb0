"""What stands between a source text and LibCST: the guards that keep hostile input from crashing the
process (:mod:`.guards`), and the syntax of Pythons newer than the one running torchlint (:mod:`.versions`)."""
