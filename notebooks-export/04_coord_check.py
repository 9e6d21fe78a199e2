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
# moved after t steps, against width. Under μP the curves are flat.

# %% tags=["parameters"]
coord_check = "samples/coord_check.h5"

# %%
import h5py
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

f = h5py.File(coord_check, "r")
std = f["std"][()]                      # [width, logged step, layer]
widths, steps = f.attrs["widths"], f.attrs["log_steps"]
fig, axes = plt.subplots(1, len(steps), figsize=(4 * len(steps), 3.5), squeeze=False)
for k, t in enumerate(steps):
    ax = axes[0][k]
    for layer in range(std.shape[2]):
        ax.plot(widths, std[:, k, layer], marker="o", label=f"layer {layer}")
    ax.set(xscale="log", yscale="log", xlabel="width", title=f"step {t}")
    ax.set_xscale("log", base=2)
axes[0][0].set_ylabel("std(Δ pre-activation)")
axes[0][-1].legend(fontsize=7)
fig.suptitle(f.attrs["optimizer"])
fig.tight_layout()
print("widest/narrowest per layer at the last step:", (std[-1, -1] / std[0, -1]).round(2))
