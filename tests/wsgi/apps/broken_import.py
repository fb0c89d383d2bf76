"""Fails at import time: gworker must exit 4 and arbiterd stop."""
import no_such_dependency_for_greenfork_tests  # noqa: F401

app = None
