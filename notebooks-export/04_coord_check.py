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
# # μP coordinate check
# From `mulo coord-check`: per layer, how far the pre-activations on a fixed probe batch have
# moved after t steps, against width. Under μP the curves are flat. Layers that have not moved
# at all (exactly zero, e.g. behind a zero-initialised readout at step 1) are listed, not drawn.

# %% tags=["parameters"]
coord_check = "samples/coord_check.h5"

# %%
# %matplotlib inline
import h5py
import matplotlib.pyplot as plt
import numpy as np

f = h5py.File(coord_check, "r")
std = f["std"][()]                      # [width, logged step, layer]
widths, steps = f.attrs["widths"], f.attrs["log_steps"]
fig, axes = plt.subplots(1, len(steps), figsize=(4.5 * len(steps), 3.6), squeeze=False)
for k, t in enumerate(steps):
    ax = axes[0][k]
    zero = [layer for layer in range(std.shape[2]) if np.all(std[:, k, layer] == 0)]
    for layer in range(std.shape[2]):
        if layer not in zero:
            ax.plot(widths, std[:, k, layer], marker="o", color=f"C{layer}", label=f"layer {layer}")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set(xlabel="width", title=f"step {t}" + (f" (layers {zero}: exactly 0)" if zero else ""))
axes[0][0].set_ylabel("std(Δ pre-activation)")
axes[0][-1].legend(fontsize=7)
fig.suptitle(f.attrs["optimizer"])
fig.tight_layout()
plt.show()
print("widest/narrowest per layer at the last step:", (std[-1, -1] / np.where(std[0, -1] == 0, np.nan, std[0, -1])).round(2))
