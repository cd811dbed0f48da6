"""broker/progress.py: a bar with rate and ETA on a terminal, plain periodic lines elsewhere."""

import io

from rich.console import Console

from broker.progress import ProgressReport


def test_plain_lines_when_not_a_terminal():
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=False, width=200)
    with ProgressReport(console, 4, "scoring", interval_s=0) as p:
        for _ in range(4):
            p.advance()
    lines = buf.getvalue().splitlines()
    assert len(lines) == 4  # one per update at interval 0, and no repeat of the last at the end
    assert lines[0].startswith("scoring: 1/4 lines (25%), ") and lines[-1].startswith("scoring: 4/4 lines (100%), ")
    assert all("lines/s, elapsed 0:00:00, ETA " in line for line in lines)


def test_no_line_before_the_interval_but_one_at_the_end():
    buf = io.StringIO()
    with ProgressReport(Console(file=buf, force_terminal=False, width=200), 3, "rows", unit="rows") as p:
        p.advance(3)
    assert buf.getvalue().splitlines() == [buf.getvalue().splitlines()[0]]
    assert buf.getvalue().startswith("rows: 3/3 rows (100%)")


def test_a_bar_with_rate_and_eta_on_a_terminal():
    buf = io.StringIO()
    with ProgressReport(Console(file=buf, force_terminal=True, width=200), 10, "scoring") as p:
        p.advance(5)
        assert p.bar is not None
        text = "".join(str(c.render(p.bar.tasks[0])) for c in p.bar.columns)
    assert "5/10" in text and "50%" in text and "ETA" in text
