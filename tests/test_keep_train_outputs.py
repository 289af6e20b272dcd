"""experiments/keep_train_outputs.py: train.ipynb takes the executed copy's code cells and outputs only when its
code is the code that ran."""
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _notebook(*cells):
    return {"cells": list(cells), "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def _code(source, outputs=(), tags=()):
    return {"cell_type": "code", "source": source, "outputs": list(outputs), "execution_count": None,
            "metadata": {"tags": list(tags)}}


def _markdown(source):
    return {"cell_type": "markdown", "source": source, "metadata": {}}


def _run(tmp_path, repository, executed):
    (tmp_path / "train.ipynb").write_text(json.dumps(repository))
    (tmp_path / "executed.ipynb").write_text(json.dumps(executed))
    return subprocess.run([sys.executable, str(REPO / "experiments" / "keep_train_outputs.py"),
                           str(tmp_path / "executed.ipynb"), "--notebook", str(tmp_path / "train.ipynb")],
                          capture_output=True, text=True)


def test_outputs_and_injected_parameters_kept_with_the_repository_markdown(tmp_path):
    output = {"output_type": "stream", "name": "stdout", "text": "epoch 1\n"}
    repository = _notebook(_markdown("new words"), _code("x = 1", tags=["parameters"]), _code("print(x)"))
    executed = _notebook(_markdown("old words"), _code("x = 1", tags=["parameters"]),
                         _code("x = 2", tags=["injected-parameters"]), _code("print(x)", outputs=[output]))
    result = _run(tmp_path, repository, executed)
    assert result.returncode == 0, result.stderr
    cells = json.loads((tmp_path / "train.ipynb").read_text())["cells"]
    assert [c["source"] for c in cells] == ["new words", "x = 1", "x = 2", "print(x)"]
    assert cells[3]["outputs"] == [output]


def test_a_code_cell_changed_since_the_run_is_refused_and_the_notebook_kept(tmp_path):
    repository = _notebook(_code("print(2)"))
    result = _run(tmp_path, repository, _notebook(_code("print(1)", outputs=[{"output_type": "stream"}])))
    assert result.returncode != 0
    assert "executed.ipynb" in result.stderr and "code cell 0 changed" in result.stderr
    assert json.loads((tmp_path / "train.ipynb").read_text()) == repository


def test_a_missing_cell_is_refused(tmp_path):
    result = _run(tmp_path, _notebook(_markdown("a"), _code("b")), _notebook(_markdown("a")))
    assert result.returncode != 0 and "more cells" in result.stderr
