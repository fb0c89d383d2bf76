"""greenfork benchmark harness: processes, wrk, servers, scenarios, report."""
