"""The way out of MuLO into Python: the export's config.json carries every constant, the NumPy
optimizer in mulo_lo.py applies an export exactly as `mulo` does (probe.h5's whole steps on
tensors of rank 0-4), and the export README's PyLO snippet runs as written.

PyLO needs PyTorch and is not on PyPI, so where `import pylo` fails the snippet runs against a
stand-in with PyLO's constructor signatures as read from its source (Belilovsky-Lab/pylo:
`pylo/optim/AdafacLO_naive.py`, `pylo/optim/MuLO_naive.py`, `pylo/models/Meta_MLP.py`) and
mup's `set_base_shapes`; the stand-in records what the snippet passes, and the test checks that
against θ."""
import inspect
import json
import pathlib
import re
import subprocess
import sys
import types

import h5py
import numpy as np
import pytest

NB = pathlib.Path(__file__).resolve().parents[1]
REPO = NB.parent
sys.path.insert(0, str(NB))
from mulo_lo import LearnedOptimizer  # noqa: E402

MULO = __import__("os").environ.get("MULO_BIN", str(REPO / ".build/release/mulo"))
SHIPPED = ["mulo-m-fashionmnist", "lo-m-fashionmnist"]


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    out = tmp_path_factory.mktemp("exports")
    for name in SHIPPED:
        subprocess.run([MULO, "export", f"Checkpoints/{name}.h5", "--with-probe", "--out", str(out / name)],
                       check=True, capture_output=True, cwd=REPO)
    return out


def probe_steps(directory, axis_rule="mulo"):
    """Runs mulo_lo on probe.h5's inputs; yields (step, tensor index, ours, mulo's)."""
    opt = LearnedOptimizer(directory, axis_rule=axis_rule)
    with h5py.File(directory / "probe.h5", "r") as f:
        n = len(f["steps/params/init"])
        params = [np.array(f[f"steps/params/init/{i}"][()], dtype=np.float32) for i in range(n)]
        state = opt.init([p.shape for p in params])
        for t in range(len(f["steps/grads"])):
            opt.update(params, [f[f"steps/grads/{t}/{i}"][()] for i in range(n)], state, f["steps/scales"][()])
            for i in range(n):
                yield t, i, params[i].copy(), f[f"steps/params/{t}/{i}"][()]


@pytest.mark.parametrize("name", SHIPPED)
def test_numpy_optimizer_matches_mulo(exports, name):
    ranks = set()
    for t, i, ours, theirs in probe_steps(exports / name):
        assert ours.shape == theirs.shape
        assert np.all(np.abs(ours - theirs) <= 1e-6 * np.maximum(1, np.abs(theirs))), f"step {t}, tensor {i} {theirs.shape}"
        ranks.add(theirs.ndim)
    assert ranks == {0, 1, 2, 3, 4}


def test_pylo_axis_rule_differs_exactly_on_square_matrices(exports):
    for (t, i, ours, _), (_, _, pylo, _) in zip(probe_steps(exports / SHIPPED[0]), probe_steps(exports / SHIPPED[0], "pylo")):
        diff = float(np.max(np.abs(ours - pylo)))
        square = ours.ndim == 2 and ours.shape[0] == ours.shape[1]
        assert diff > 1e-6 if square else diff == 0, (t, ours.shape, diff)


@pytest.mark.parametrize("name", SHIPPED)
def test_config_json_carries_every_constant_of_theta(exports, name):
    cfg = json.loads((exports / name / "config.json").read_text())
    assert [cfg[k] for k in ("input_size", "hidden_size", "hidden_layers")] == [39, 32, 1]
    with h5py.File(REPO / "Checkpoints" / f"{name}.h5", "r") as f:
        for k in ("momentum_decays", "rms_decays", "adafactor_decays"):
            assert np.array_equal(np.float32(cfg[k]), f[f"theta/{k}"][()]), k
            assert np.array_equal(np.float32(cfg[f"initial_{k}"]), np.float32(f["theta"].attrs[f"base_{k}"])), k
        assert np.float32(cfg["step_mult"]) == np.float32(f["theta"].attrs["step_mult"])
        assert cfg["parametrization"] == f["theta"].attrs["parametrization"]


def pylo_stand_in(calls):
    """Modules `pylo.optim` and `mup` with the real signatures; constructors record their arguments."""
    class MetaMLP:
        def __init__(self, input_size, hidden_size, hidden_layers):
            self.sizes = (input_size, hidden_size, hidden_layers)

        @classmethod
        def from_pretrained(cls, directory):
            # huggingface_hub passes only the keys __init__ names (ModelHubMixin.from_pretrained).
            cfg = json.loads((pathlib.Path(directory) / "config.json").read_text())
            return cls(**{k: cfg[k] for k in inspect.signature(cls.__init__).parameters if k in cfg})

    def AdafacLO_naive(params, momentum_decays=[0.15216392, 0.14245212, 0.06812963], rms_decays=[0.01079706],
                       adafactor_decays=[0.18621896, -0.10864615, -0.06185547], lr=1.0, exp_mult=0.001, step_mult=0.01,
                       input_size=39, hidden_size=32, hidden_layers=1, initial_momentum_decays=(0.9, 0.99, 0.999),
                       initial_rms_decays=(0.999,), initial_adafactor_decays=(0.9, 0.99, 0.999), max_grad_norm=None,
                       concat_weights=True, make_separate_weights=False, split_weights=False, clip_grad=False,
                       mup_lrs=None, hf_key="btherien/mulo"):
        calls.append(dict(locals(), network=MetaMLP.from_pretrained(hf_key)))

    def MuLO_naive(params, impl=AdafacLO_naive, **kwargs):
        for p in params:
            assert hasattr(p, "infshape"), "Did you forget to call `mup.set_base_shapes` on the model?"
        kwargs["lr"]  # mup's process_param_groups reads the group's lr: KeyError 'lr' without it
        return impl(params, **kwargs)

    def set_base_shapes(model, base):
        for p in model.parameters():
            p.infshape = base

    optim = types.ModuleType("pylo.optim")
    optim.AdafacLO_naive, optim.MuLO_naive = AdafacLO_naive, MuLO_naive
    pylo = types.ModuleType("pylo")
    pylo.optim = optim
    mup = types.ModuleType("mup")
    mup.set_base_shapes = set_base_shapes
    return {"pylo": pylo, "pylo.optim": optim, "mup": mup}


@pytest.mark.parametrize("name", SHIPPED)
def test_export_readme_python_runs_as_written(exports, name, monkeypatch):
    directory = exports / name
    readme = (directory / "README.md").read_text()
    snippet = re.search(r"## With PyTorch and PyLO\n\n```python\n(.*?)```", readme, re.S).group(1)
    snippet = snippet.replace('"path/to/this/directory"', repr(str(directory)))
    calls = []
    try:
        import pylo.optim  # noqa: F401
        import torch
        model = base_model = torch.nn.Linear(4, 4)
    except ImportError:
        for module, stand_in in pylo_stand_in(calls).items():
            monkeypatch.setitem(sys.modules, module, stand_in)

        weights = [types.SimpleNamespace(), types.SimpleNamespace()]
        model, base_model = types.SimpleNamespace(parameters=lambda: weights), "the model at width 1"
    namespace = {"model": model, "base_model": base_model}
    exec(compile(snippet, f"{name}/README.md", "exec"), namespace)
    assert "opt" in namespace
    if calls:
        (call,) = calls
        cfg = json.loads((directory / "config.json").read_text())
        with h5py.File(REPO / "Checkpoints" / f"{name}.h5", "r") as f:
            for k in ("momentum_decays", "rms_decays", "adafactor_decays"):
                assert np.array_equal(np.float32(call[k]), f[f"theta/{k}"][()]), k
        assert call["step_mult"] == cfg["step_mult"] and call["lr"] == 1.0 and call["hf_key"] == str(directory)
        assert call["network"].sizes == (39, 32, 1)
