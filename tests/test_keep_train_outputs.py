"""experiments/keep_train_outputs.py: train.ipynb takes the executed copy's code cells and outputs only when its
code is the code that ran."""
import json
import subprocess
import sys
from pathlib import Path

from conftest import experiment_script

REPO = Path(__file__).resolve().parents[1]
KEEP = experiment_script("keep_train_outputs")


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
                         _code("# Parameters\nx = 2\ny = \"a\"\n", tags=["injected-parameters"]),
                         _code("print(x)", outputs=[output]))
    result = _run(tmp_path, repository, executed)
    assert result.returncode == 0, result.stderr
    cells = json.loads((tmp_path / "train.ipynb").read_text())["cells"]
    assert [c["source"] for c in cells[:2] + cells[3:]] == ["new words", "x = 1", "print(x)"]
    assert cells[3]["outputs"] == [output]
    # The injected parameters stay, as the record of the run: running the notebook as committed uses its own
    # parameters cell, and the switch in the record repeats the run.
    record = "".join(cells[2]["source"])
    assert "injected-parameters" in cells[2]["metadata"]["tags"] and "    x = 2\n" in record
    for switch, expected in ((False, {"x": 1}), (True, {"x": 2, "y": "a"})):
        names = {}
        exec("x = 1\n" + record.replace("repeat_the_run = False", f"repeat_the_run = {switch}"), names)
        assert {key: names[key] for key in expected} == expected and ("y" in names) == switch
    # a record is kept as it is when the notebook is merged again
    again = json.loads((tmp_path / "train.ipynb").read_text())
    assert KEEP.merge(again, again)["cells"][2] == cells[2]


def test_absolute_paths_are_refused_and_the_notebook_kept(tmp_path):
    repository = _notebook(_code("print(1)"))
    for executed in (_notebook(_code("print(1)", outputs=[{"output_type": "stream", "text": "see /home/me/data\n"}])),
                     _notebook(_code("data_root = 'C:\\\\Users\\\\me\\\\data'", tags=["injected-parameters"]),
                               _code("print(1)")),
                     {**_notebook(_code("print(1)")), "metadata": {"papermill": {"output_path": "/tmp/x.ipynb"}}}):
        result = _run(tmp_path, repository, executed)
        assert result.returncode != 0 and "absolute path" in result.stderr, result.stderr
        assert json.loads((tmp_path / "train.ipynb").read_text()) == repository
    relative = _notebook(_code("print(1)", outputs=[{"output_type": "stream", "text": "../shared/data 1/4 a/b\n"}]))
    assert _run(tmp_path, repository, relative).returncode == 0


def test_a_code_cell_changed_since_the_run_is_refused_and_the_notebook_kept(tmp_path):
    repository = _notebook(_code("print(2)"))
    result = _run(tmp_path, repository, _notebook(_code("print(1)", outputs=[{"output_type": "stream"}])))
    assert result.returncode != 0
    assert "executed.ipynb" in result.stderr and "code cell 0 changed" in result.stderr
    assert json.loads((tmp_path / "train.ipynb").read_text()) == repository


def test_a_missing_cell_is_refused(tmp_path):
    result = _run(tmp_path, _notebook(_markdown("a"), _code("b")), _notebook(_markdown("a")))
    assert result.returncode != 0 and "more cells" in result.stderr
