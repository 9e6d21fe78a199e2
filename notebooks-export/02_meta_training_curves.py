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
# # Meta-training curves
# The metrics a meta-training checkpoint carries: meta-loss per family and their mean, the
# outer learning rate, and throughput.

# %% tags=["parameters"]
checkpoint = "samples/checkpoint.h5"

# %%
import h5py
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

f = h5py.File(checkpoint, "r")
m = f["metrics"]
step = m["outer_step"][()]
fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
w = max(1, len(step) // 20)
smooth = lambda x: np.convolve(x, np.ones(w) / w, mode="valid")
for task in m["family_loss"]:
    y = m["family_loss"][task][()]
    axes[0].plot(step[w - 1:], smooth(y), label=task)
axes[0].plot(step[w - 1:], smooth(m["meta_loss"][()]), "k", lw=2, label="mean")
axes[0].set(xlabel="outer step", ylabel="meta-loss (moving average)", title="meta-loss")
axes[0].legend(fontsize=7)
axes[1].plot(step, m["learning_rate"][()])
axes[1].set(xlabel="outer step", ylabel="learning rate", title="outer AdamW schedule", yscale="log")
axes[2].plot(step, m["inner_steps_per_s"][()])
axes[2].set(xlabel="outer step", ylabel="inner steps / s", title="throughput")
fig.tight_layout()
print(f"{len(step)} outer steps; meta-loss {m['meta_loss'][0]:.4f} → {m['meta_loss'][-1]:.4f}")
