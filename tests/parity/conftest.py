"""The op_db coverage line: how many of op_db's ops jtorch has, and how many agree fully."""
import collections


def pytest_terminal_summary(terminalreporter):
    stats = terminalreporter.stats
    total = have = None
    per_op = collections.defaultdict(set)
    refused = set()
    for outcome in ("passed", "failed", "xfailed", "xpassed", "error"):
        for rep in stats.get(outcome, ()):
            nodeid = getattr(rep, "nodeid", "")
            if "test_op_db.py::" not in nodeid:
                continue
            for key, value in getattr(rep, "user_properties", ()):
                if key == "op_db_total":
                    total = value
                elif key == "op_db_have":
                    have = value
                elif key == "op_db_refused":
                    refused.add(value)
            if "[" in nodeid and getattr(rep, "when", "call") in ("call", "setup"):
                param = nodeid.split("[", 1)[1].rstrip("]")
                op = param.rsplit("-", 1)[0]
                # every case is gated and XFAIL rows are strict: an xpass is a failure
                per_op[op].add("ok" if outcome == "passed" else "failed" if outcome == "xpassed" else outcome)
    if not per_op:
        return
    agree = sum(1 for op, results in per_op.items() if results == {"ok"} and op not in refused)
    terminalreporter.write_line(
        "op_db coverage: %s ops in op_db (by name.variant), jtorch has %s, %d tested, %d agree fully "
        "(values, dtypes, shapes, grad_fn names, gradients, error classes), %d refused by design, %d xfailed, "
        "%d failed"
        % (total if total is not None else "?", have if have is not None else len(per_op), len(per_op), agree,
           len(refused & set(per_op)),
           sum(1 for r in per_op.values() if "xfailed" in r and "failed" not in r),
           sum(1 for r in per_op.values() if "failed" in r or "error" in r)))
