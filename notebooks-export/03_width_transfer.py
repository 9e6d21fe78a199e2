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
# # Width transfer
# Results of `mulo evaluate-on-width`: final training loss against width for each optimizer,
# and the training curves at the widest width.

# %% tags=["parameters"]
results = "samples/results.h5"

# %%
import h5py
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

f = h5py.File(results, "r")
widths = f.attrs["widths"]
print("template:", f.attrs["template"], "| steps:", f.attrs["steps"], "| seeds:", f.attrs["seeds"])
fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4))
for opt in f["summary"]:
    s = f["summary"][opt]
    a.errorbar(s["width"][()], s["final_loss_mean"][()], yerr=s["final_loss_se"][()], marker="o", capsize=3,
               label=s.attrs["label"])
    runs = f["runs"][opt][f"w{widths[-1]}"]
    curves = [runs[seed]["train_loss"][()] for seed in runs]
    n = min(len(c) for c in curves)
    b.plot(np.mean([c[:n] for c in curves], axis=0), label=s.attrs["label"])
a.set(xscale="log", xlabel="width", ylabel="final training loss", title="final loss vs width")
a.set_xscale("log", base=2)
a.legend()
b.set(xlabel="step", ylabel="training loss", yscale="log", title=f"width {widths[-1]}")
fig.tight_layout()
for opt in f["summary"]:
    s = f["summary"][opt]
    print(f"{s.attrs['label']:24s}", "  ".join(f"{m:.4f}±{e:.4f}" for m, e in zip(s["final_loss_mean"][()], s["final_loss_se"][()])))
