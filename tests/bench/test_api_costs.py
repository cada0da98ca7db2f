"""bench/api_costs.py walks the bench's lifecycle in-process and counts what each call costs."""

import re

from bench import api_costs


def test_counts_every_call_of_a_lifecycle(tmp_path, capsys):
    api_costs.main(["--database-url", f"sqlite:///{tmp_path}/costs.db", "--lifecycles", "1"])
    out = capsys.readouterr().out
    rows = dict(re.findall(r"^\| ([a-z:* ]+?) \| (\d+) \|", out, re.M))
    assert set(rows) == {"file request", "complete: authorize", "complete: evaluate",
                         "complete: assign", "complete: start", "complete: finish",
                         "complete: confirm", "read request", "**one lifecycle**"}
    assert all(int(n) > 0 for n in rows.values())
    assert int(rows["**one lifecycle**"]) == sum(
        int(n) for kind, n in rows.items() if not kind.startswith("**"))
    assert "| sqlalchemy |" in out and "| SpiffWorkflow |" in out
