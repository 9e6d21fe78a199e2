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
# The metrics a meta-training checkpoint (or a shipped θ file) carries, per outer step: meta-loss
# per family and their mean, the fraction of inner losses at the clip bound (diverged inner
# runs), the outer learning rate and throughput. By default the shipped μLO_M, else the sample.

# %% tags=["parameters"]
checkpoint = None

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
from mulo_results import first_existing, meta_metrics

checkpoint = checkpoint or first_existing("../Checkpoints/mulo-m-fashionmnist.h5", "samples/checkpoint.h5")
m = meta_metrics(checkpoint)
w = max(1, len(m) // 20)
families = [c for c in m.columns if c.startswith("family_loss/")]
fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
for c in families:
    axes[0].plot(m[c].rolling(w).mean(), label=c.split("/", 1)[1])
axes[0].plot(m["meta_loss"].rolling(w).mean(), "k", lw=2, label="mean")
axes[0].set(xlabel="outer step", ylabel=f"meta-loss (moving average of {w})", title="meta-loss")
axes[0].legend(fontsize=7)
bound = [c for c in m.columns if c.startswith("family_at_bound/")]
if bound and m[bound].notna().any().any():
    for c in bound:
        axes[1].plot(100 * m[c], label=c.split("/", 1)[1])
    axes[1].set(xlabel="outer step", ylabel="% of inner losses at the bound", title="diverged inner runs")
else:
    axes[1].plot(m["learning_rate"])
    axes[1].set(xlabel="outer step", ylabel="learning rate", title="outer AdamW schedule", yscale="log")
axes[2].plot(m["inner_steps_per_s"])
axes[2].set(xlabel="outer step", ylabel="inner steps / s", title="throughput")
fig.suptitle(checkpoint)
fig.tight_layout()
plt.show()
print(f"{len(m)} outer steps; meta-loss {m.meta_loss.iloc[0]:.4f} → {m.meta_loss.iloc[-1]:.4f}")
