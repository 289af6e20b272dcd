"""A notebook of the repository takes the outputs of its executed copy (papermill's output).

Used for train.ipynb after train_notebook.sh's run (RUN_DIR/train.executed.ipynb), and for test.ipynb and
super_resolution.ipynb by final_evaluation.sh.

The executed copy may have run from an older commit, so its markdown may be older than the repository's. This keeps
the repository's markdown cells and takes every code cell, with its outputs, from the executed copy, after checking
that each code cell's source is the repository's: a notebook whose code changed since the run would show outputs that
its code did not make. The cell of parameters papermill injected is kept as the record of the run (``as_record``):
its assignments apply only where a reader sets ``repeat_the_run = True``, so that running the committed notebook
uses its own parameters cell (train.ipynb: the paper's settings). A notebook that would keep an absolute path (in a
cell, an output or papermill's metadata) is refused, naming it: the committed notebooks show no machine's paths.

    python experiments/keep_train_outputs.py /work/runs/notebook/train.executed.ipynb [--notebook train.ipynb]
"""
import argparse
import json
import os
import re
import sys
import tempfile

SWITCH = "repeat_the_run"
RECORD_HEADER = ("# The parameters of the run that made this notebook's outputs (papermill injected them). As\n"
                 "# committed they are not applied: running every cell uses the parameters cell above.\n"
                 "# To repeat that run, set this to True:\n")
# An absolute path: /a/b... (not inside a word, a relative path or a URL) or a Windows drive.
ABSOLUTE_PATH = re.compile(r"(?<![\w.~/\\})-])/(?:[\w.+-]+/)+[\w.+-]*|(?<!\w)[A-Za-z]:(?:\\{1,2}[\w .+-]+)+\\")


def is_injected(cell):
    """Whether the cell is the parameters cell papermill added."""
    return "injected-parameters" in cell.get("metadata", {}).get("tags", [])


def as_record(cell):
    """Papermill's injected cell (``name = value`` lines) as the record of the run: the same lines, applied only
    under ``if repeat_the_run:`` (``repeat_the_run = False`` above them). A record stays as it is."""
    source = "".join(cell["source"])
    if f"{SWITCH} = " in source:
        return cell
    lines = [line for line in source.splitlines() if line.strip() and line.strip() != "# Parameters"]
    body = "".join(f"    {line}\n" for line in lines) or "    pass\n"
    record = f"{RECORD_HEADER}{SWITCH} = False\nif {SWITCH}:\n{body}".rstrip("\n")
    return {**cell, "source": record.splitlines(keepends=True)}  # lines, as papermill and Jupyter write them


def notebook_texts(notebook):
    """``(where, text)`` of everything a reader of the notebook sees as text: papermill's metadata, each cell's
    source and its text outputs (not its images)."""
    yield "metadata", json.dumps(notebook.get("metadata", {}))
    for index, cell in enumerate(notebook["cells"]):
        yield f"cell {index}", "".join(cell["source"])
        for output in cell.get("outputs", []):
            yield f"cell {index}'s output", "".join(output.get("text", "")) + "\n".join(output.get("traceback", []))
            for kind, data in output.get("data", {}).items():
                if not kind.startswith("image/"):
                    yield f"cell {index}'s output", data if isinstance(data, str) else json.dumps(data)


def absolute_paths(notebook):
    """``[(where, path)]``: the absolute paths in the notebook's text (``notebook_texts``)."""
    return [(where, match.group(0)) for where, text in notebook_texts(notebook)
            for match in ABSOLUTE_PATH.finditer(text)]


def merge(repository, executed):
    """The repository's notebook (dict) with the executed one's code cells and its injected parameters as a record
    (``as_record``), in order. Raises ValueError naming the first cell that differs in type or code, a different
    number of cells, or the absolute paths the result would hold."""
    mine = iter([cell for cell in repository["cells"] if not is_injected(cell)])  # the last run's record: replaced
    cells = []
    for theirs in executed["cells"]:
        if is_injected(theirs):
            cells.append(as_record(theirs))
            continue
        ours = next(mine, None)
        if ours is None or ours["cell_type"] != theirs["cell_type"]:
            raise ValueError(f"cell {len(cells)}: the executed notebook's cells do not match the repository's")
        if ours["cell_type"] == "code" and "".join(ours["source"]) != "".join(theirs["source"]):
            raise ValueError(f"code cell {len(cells)} changed since the run:\n{''.join(ours['source'])[:300]}")
        cells.append(theirs if ours["cell_type"] == "code" else ours)
    if next(mine, None) is not None:
        raise ValueError("the repository's notebook has more cells than the executed one")
    merged = {**executed, "cells": cells}
    found = absolute_paths(merged)
    if found:
        listed = "; ".join(f"{where}: {path}" for where, path in found[:5])
        raise ValueError(f"{len(found)} absolute path(s) would be committed ({listed}): give the run relative paths")
    return merged


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("executed", help="the executed notebook (papermill's output)")
    parser.add_argument("--notebook", default="train.ipynb", help="the repository's notebook, replaced")
    args = parser.parse_args()
    with open(args.notebook, encoding="utf-8") as file:
        repository = json.load(file)
    with open(args.executed, encoding="utf-8") as file:
        executed = json.load(file)
    try:
        merged = merge(repository, executed)
    except ValueError as error:
        sys.exit(f"error: {args.executed}: {error}")
    folder = os.path.dirname(os.path.abspath(args.notebook))
    with tempfile.NamedTemporaryFile("w", dir=folder, suffix=".ipynb", delete=False, encoding="utf-8") as file:
        json.dump(merged, file, indent=1, ensure_ascii=False)
        file.write("\n")
    os.replace(file.name, args.notebook)
    print(f"{args.notebook}: {sum(c['cell_type'] == 'code' for c in merged['cells'])} code cells with their outputs")


if __name__ == "__main__":
    main()
