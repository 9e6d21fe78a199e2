"""The Python side of MuLO: every notebook executes headless on samples made during the test
run, the paired .ipynb files are stripped and in sync, and the exports load with the
`safetensors` and NumPy APIs and equal θ."""
import json
import os
import pathlib
import subprocess

import h5py
import jupytext
import numpy as np
import papermill
import pytest
from safetensors.numpy import load_file

NB = pathlib.Path(__file__).resolve().parents[1]
MULO = os.environ.get("MULO_BIN", str(NB.parent / ".build/release/mulo"))
NOTEBOOKS = sorted(NB.glob("0*.py"))
PARAMETERS = {
    "01": {"checkpoint": "checkpoint.h5"},
    "02": {"checkpoint": "checkpoint.h5"},
    "03": {"results": "results.h5"},
    "04": {"coord_check": "coord_check.h5"},
    "05": {"export_dir": "export"},
}
PYLO = {"network.input.weight": ("nn/~/w0", True), "network.input.bias": ("nn/~/b0", False),
        "network.linear_0.weight": ("nn/~/w1", True), "network.linear_0.bias": ("nn/~/b1", False),
        "network.output.weight": ("nn/~/w2", True), "network.output.bias": ("nn/~/b2", False)}


@pytest.fixture(scope="session")
def samples(tmp_path_factory):
    out = tmp_path_factory.mktemp("samples")
    subprocess.run([str(NB / "make_samples.sh"), str(out), MULO], check=True, capture_output=True)
    return out


def execute(notebook, tmp_path, parameters):
    """Runs the notebook as Jupyter would and checks it drew: at least one inline image output."""
    ipynb = tmp_path / f"{notebook.stem}.ipynb"
    jupytext.write(jupytext.read(notebook), ipynb)
    papermill.execute_notebook(str(ipynb), str(tmp_path / "executed.ipynb"), parameters=parameters,
                               cwd=str(NB), kernel_name="python3", progress_bar=False)
    executed = json.loads((tmp_path / "executed.ipynb").read_text())
    images = [o for c in executed["cells"] for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert images, f"{notebook.name} shows no figure"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_on_fresh_samples(notebook, samples, tmp_path):
    execute(notebook, tmp_path, {k: str(samples / v) for k, v in PARAMETERS[notebook.stem[:2]].items()})


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_on_its_default_sample(notebook, tmp_path):
    execute(notebook, tmp_path, {})


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_paired_ipynb_is_stripped_and_in_sync(notebook):
    paired = notebook.with_suffix(".ipynb")
    raw = json.loads(paired.read_text())
    for cell in raw["cells"]:
        assert not cell.get("outputs") and cell.get("execution_count") is None, f"{paired.name} has outputs"
    ours = [c.source for c in jupytext.read(notebook).cells]
    theirs = [c.source for c in jupytext.read(paired).cells]
    assert ours == theirs, f"{paired.name} is out of sync with {notebook.name} (run jupytext --sync)"


def test_safetensors_loads_with_the_numpy_api_and_equals_theta(samples):
    tensors = load_file(str(samples / "export/model.safetensors"))
    theta = h5py.File(samples / "theta.h5", "r")["theta"]
    assert sorted(tensors) == sorted(PYLO)
    for name, (ref, transposed) in PYLO.items():
        want = theta[ref][()]
        np.testing.assert_array_equal(tensors[name], want.T if transposed else want)
        assert tensors[name].dtype == np.float32
    cfg = json.loads((samples / "export/config.json").read_text())
    assert [cfg.pop(k) for k in ("input_size", "hidden_size", "hidden_layers")] == [39, 32, 1]  # MetaMLP's arguments
    assert np.array_equal(np.float32(cfg["momentum_decays"]), theta["momentum_decays"][()])  # then the optimizer's
    side = json.loads((samples / "export/mulo_lo.json").read_text())
    for key in ["momentum_decays", "rms_decays", "adafactor_decays"]:
        np.testing.assert_array_equal(np.array(side[key], dtype=np.float32), theta[key][()])


def test_npz_and_json_exports_load(samples, tmp_path):
    for fmt in ["npz", "json"]:
        subprocess.run([MULO, "export", str(samples / "theta.h5"), "--format", fmt, "--out", str(tmp_path / fmt)],
                       check=True, capture_output=True)
    theta = h5py.File(samples / "theta.h5", "r")["theta"]
    npz = np.load(tmp_path / "npz/theta.npz")
    js = json.loads((tmp_path / "json/theta.json").read_text())
    for name in ["momentum_decays", "rms_decays", "adafactor_decays", "nn/~/w0", "nn/~/b0", "nn/~/w1", "nn/~/b1",
                 "nn/~/w2", "nn/~/b2"]:
        np.testing.assert_array_equal(npz[name], theta[name][()])
        np.testing.assert_array_equal(np.array(js["theta"][name], dtype=np.float32), theta[name][()])
