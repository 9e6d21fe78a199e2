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
# # A MuLO checkpoint: structure and configuration
# Opens a meta-training checkpoint (or a θ file) with h5py and shows what it holds.

# %% tags=["parameters"]
checkpoint = "samples/checkpoint.h5"

# %%
import json
import h5py
import numpy as np

f = h5py.File(checkpoint, "r")
print("kind:", f.attrs.get("kind"))

def show(name, obj):
    if isinstance(obj, h5py.Dataset):
        print(f"{name:70s} {str(obj.dtype):8s} {obj.shape}")

f.visititems(show)

# %% [markdown]
# ## Configuration and departures from the paper's constants

# %%
if "config" in f.attrs:
    config = json.loads(f.attrs["config"])
    print(json.dumps(config, indent=2, sort_keys=True)[:3000])
for line in f.attrs.get("departures_from_paper", []):
    print("-", line)

# %% [markdown]
# ## θ under the reference names
# Any architecture: small_fc_lopt (weights [in, out]; decays are offsets, β = 1 − (1 − β0)·exp(10·θ_d))
# or VeLO/μVeLO (the 33 Haiku leaves of VELO §4.1, `theta@architecture` = "velo").

# %%
theta = f["theta"]
print("architecture:", theta.attrs.get("architecture", "small_fc_lopt"))
total = 0


def leaf(name, obj):
    global total
    if isinstance(obj, h5py.Dataset):
        a = obj[()]
        total += a.size
        print(f"{name:36s} {str(a.shape):14s} mean {a.mean():+.4f} std {a.std():.4f}")


theta.visititems(leaf)
print("meta-parameters:", total)

# %% [markdown]
# ## The distribution of each θ leaf

# %%
# %matplotlib inline
import matplotlib.pyplot as plt

leaves = {}
theta.visititems(lambda n, o: leaves.setdefault(n, o[()].ravel()) if isinstance(o, h5py.Dataset) and o.size > 8 else None)
cols = min(6, len(leaves))
rows = -(-len(leaves) // cols)
fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols, 2.2 * rows), squeeze=False)
for ax, (name, values) in zip(axes.flat, leaves.items()):
    ax.hist(values, bins=40)
    ax.set_title(name, fontsize=7)
for ax in list(axes.flat)[len(leaves):]:
    ax.axis("off")
fig.tight_layout()
plt.show()

# %%
print({k: (v if not isinstance(v, np.ndarray) else v.tolist()) for k, v in theta.attrs.items()})
if theta.attrs.get("architecture", "small_fc_lopt") == "small_fc_lopt":
    h = int(theta.attrs["hidden_size"])
    assert total == 39 * h + h + h * h + h + h * 2 + 2 + 7
