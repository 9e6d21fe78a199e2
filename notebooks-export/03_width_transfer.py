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
# Results of `mulo evaluate-on-width`: final training loss against width for each optimizer
# (mean ± standard error over seeds, divergences marked), and the training curves at the widest
# width (each seed faint, the mean bold). By default the repository's width study, else the sample.

# %% tags=["parameters"]
results = None

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np
from mulo_results import first_existing, settings, width_curves, width_runs

results = results or first_existing("../results/mlp-width/results.h5", "samples/results.h5")
s = settings(results)
runs = width_runs(results)
print("template:", s["template"], "| steps:", s["steps"], "| seeds:", s["seeds"], "| batch:", s["batch"])
widest = max(s["widths"])
fig, (a, b) = plt.subplots(1, 2, figsize=(13, 4.2))
for label, g in runs.groupby("label", sort=False):
    ok = g[g.diverged_at.isna()].groupby("width").final_loss
    line = a.errorbar(ok.mean().index, ok.mean(), yerr=ok.sem().fillna(0), marker="o", capsize=3, label=label)
    gone = g[g.diverged_at.notna()].groupby("width").size()
    if len(gone):
        top = runs.final_loss[runs.diverged_at.isna()].max()
        a.scatter(gone.index, [top * 1.15] * len(gone), marker="x", s=60, color=line[0].get_color())
a.set_xscale("log", base=2)
a.set(yscale="log", xlabel="width", ylabel="final training loss", title="final loss vs width (× diverged)")
a.legend(fontsize=8)
curves = width_curves(results, widest)
for label in dict.fromkeys(l for l, _ in curves.columns):
    c = curves[label]
    line, = b.plot(c.mean(axis=1), lw=1.8, label=label)
    b.plot(c, lw=0.6, alpha=0.3, color=line.get_color())
b.set(xlabel="step", ylabel="training loss", yscale="log", title=f"width {widest}")
b.legend(fontsize=8)
fig.suptitle(s["template"])
fig.tight_layout()
plt.show()
runs.pivot_table(index="label", columns="width", values="final_loss", aggfunc="mean").round(4)
