"""README.md stays readable: each numbered step of its workflows says what to run and what comes out in at most 80
words (counted as ``wc -w`` counts them); the details live in their own sections below the steps."""
import os
import re

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAX_WORDS = 80


def numbered_steps(markdown, heading):
    """``{number: text}`` of the numbered list items in the section under ``heading`` (up to the next heading of
    any level); an item runs from its ``N. `` line to the next item, blank line or heading."""
    lines = markdown.split("\n")
    start = lines.index(heading) + 1
    steps, current = {}, None
    for line in lines[start:]:
        if line.startswith("#"):
            break
        item = re.match(r"(\d+)\. ", line)
        if item:
            current = int(item.group(1))
            steps[current] = line
        elif line.strip() and current is not None:
            steps[current] += "\n" + line
        else:
            current = None
    return steps


def test_numbered_steps_are_parsed_as_wc_counts_them():
    markdown = "# t\n\n## Steps\n\n1. **One.** a b\n   c d\n2. e\n\nafter\n\n## Next\n\n3. other section\n"
    steps = numbered_steps(markdown, "## Steps")
    assert steps == {1: "1. **One.** a b\n   c d", 2: "2. e"}
    assert [len(text.split()) for text in steps.values()] == [6, 2]  # wc -w: "1." and "**One.**" are words


@pytest.mark.parametrize("heading", ["## The real workflow (a CUDA GPU)", "## Human rating (MOS)"])
def test_each_workflow_step_is_at_most_80_words(heading):
    with open(os.path.join(REPO, "README.md"), encoding="utf-8") as file:
        steps = numbered_steps(file.read(), heading)
    assert list(steps) == list(range(1, len(steps) + 1)) and len(steps) >= 3, f"{heading}: steps {list(steps)}"
    too_long = {number: len(text.split()) for number, text in steps.items() if len(text.split()) > MAX_WORDS}
    assert not too_long, f"{heading}: steps over {MAX_WORDS} words (move the details to a section below): {too_long}"
