# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Export check
# A NumPy re-implementation of the learned optimizer's MLP, applied to the probe features
# MuLO wrote (`mulo export --with-probe`), must reproduce MuLO's outputs; and the exported
# `model.safetensors`, parsed here with plain NumPy, must hold the same weights (transposed).

# %% tags=["parameters"]
export_dir = "samples/export"

# %%
import json
import struct
import h5py
import numpy as np

probe = h5py.File(f"{export_dir}/probe.h5", "r")
x, expected = probe["features"][()], probe["outputs"][()]
t = probe["theta"]
w0, b0, w1, b1, w2, b2 = (t[f"nn/~/{n}"][()] for n in ["w0", "b0", "w1", "b1", "w2", "b2"])

def mlp(x):
    """small_fc_lopt's network: 39 → 32 → 32 → 2 with ReLU; weights [in, out]."""
    z1 = np.maximum(x @ w0 + b0, 0)
    z2 = np.maximum(z1 @ w1 + b1, 0)
    return z2 @ w2 + b2

ours = mlp(x.astype(np.float64))
err = np.abs(ours - expected).max()
print(f"{len(x)} probe rows, max |NumPy − MuLO| = {err:.2e}")
assert err <= 1e-6, err

# %%
# %matplotlib inline
import matplotlib.pyplot as plt

fig, axes = plt.subplots(1, 2, figsize=(8, 3.6))
for ax, k, name in zip(axes, range(2), ["direction d", "log-magnitude m"]):
    ax.scatter(expected[:, k], ours[:, k], s=6)
    ax.set(xlabel=f"MuLO {name}", ylabel=f"NumPy {name}", title=f"{name}: max |Δ| {np.abs(ours[:, k] - expected[:, k]).max():.1e}")
fig.tight_layout()
plt.show()

# %%
raw = open(f"{export_dir}/model.safetensors", "rb").read()
(n,) = struct.unpack("<Q", raw[:8])
header = json.loads(raw[8:8 + n])
def tensor(name):
    e = header[name]
    a, b = e["data_offsets"]
    assert e["dtype"] == "F32"
    return np.frombuffer(raw[8 + n + a:8 + n + b], dtype="<f4").reshape(e["shape"])
pairs = {"network.input.weight": w0.T, "network.input.bias": b0, "network.linear_0.weight": w1.T,
         "network.linear_0.bias": b1, "network.output.weight": w2.T, "network.output.bias": b2}
for name, want in pairs.items():
    assert np.array_equal(tensor(name), want), name
print("safetensors weights equal θ (PyTorch [out, in] layout):", sorted(pairs))
print("config.json:", json.load(open(f"{export_dir}/config.json")))
print("decays (mulo_lo.json):", {k: v for k, v in json.load(open(f"{export_dir}/mulo_lo.json")).items() if k.endswith("decays")})
