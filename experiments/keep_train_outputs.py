"""train.ipynb with the outputs of its executed copy (train_notebook.sh's RUN_DIR/train.executed.ipynb).

The executed copy ran from a fixed commit, so its markdown may be older than the repository's. This keeps the
repository's markdown cells and takes every code cell, with its outputs, from the executed copy (plus the cell of
parameters papermill injected, which shows what ran), after checking that each code cell's source is the
repository's: a notebook whose code changed since the run would show outputs that its code did not make.

    python experiments/keep_train_outputs.py /work/runs/notebook/train.executed.ipynb [--notebook train.ipynb]
"""
import argparse
import json
import os
import sys
import tempfile


def is_injected(cell):
    """Whether the cell is the parameters cell papermill added."""
    return "injected-parameters" in cell.get("metadata", {}).get("tags", [])


def merge(repository, executed):
    """The repository's notebook (dict) with the executed one's code cells and injected parameters, in order.
    Raises ValueError naming the first cell that differs in type or code, or a different number of cells."""
    mine = iter(repository["cells"])
    cells = []
    for theirs in executed["cells"]:
        if is_injected(theirs):
            cells.append(theirs)
            continue
        ours = next(mine, None)
        if ours is None or ours["cell_type"] != theirs["cell_type"]:
            raise ValueError(f"cell {len(cells)}: the executed notebook's cells do not match the repository's")
        if ours["cell_type"] == "code" and "".join(ours["source"]) != "".join(theirs["source"]):
            raise ValueError(f"code cell {len(cells)} changed since the run:\n{''.join(ours['source'])[:300]}")
        cells.append(theirs if ours["cell_type"] == "code" else ours)
    if next(mine, None) is not None:
        raise ValueError("the repository's notebook has more cells than the executed one")
    return {**executed, "cells": cells}


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
