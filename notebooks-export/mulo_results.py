"""MuLO's HDF5 files as pandas DataFrames, for notebooks and your own analysis.

    from mulo_results import meta_metrics, width_runs, width_curves, first_existing
    runs = width_runs("../results/mlp-width/results.h5")       # one row per (optimizer, width, seed)
    runs.groupby(["label", "width"]).final_loss.agg(["mean", "sem"])
"""
import json
import os

import h5py
import numpy as np
import pandas as pd


def first_existing(*paths):
    """The first of `paths` that exists: the repository's real results before the small samples."""
    for p in paths:
        if p and os.path.exists(p):
            return p
    raise FileNotFoundError(f"none of {paths} exists")


def meta_metrics(path):
    """Per outer step of a meta-training checkpoint (or a shipped θ file with metrics): meta_loss,
    learning_rate, update_norm, inner_steps_per_s, wall_time_s, and one column per family of
    `family_loss/<task>` and `family_at_bound/<task>` (NaN where a run predates the series)."""
    with h5py.File(path, "r") as f:
        m = f["metrics"]
        columns = {k: m[k][()] for k in m if isinstance(m[k], h5py.Dataset)}
        for group in ("family_loss", "family_at_bound"):
            if group in m:
                for task in m[group]:
                    columns[f"{group}/{task}"] = m[group][task][()]
    return pd.DataFrame(columns).set_index("outer_step")


def width_runs(path):
    """One row per run of `mulo evaluate-on-width`'s results.h5: optimizer, label, template (the
    optimizer's own), width, seed, task, final_loss, diverged_at (None if not), final test loss
    and accuracy, steps trained."""
    rows = []
    with h5py.File(path, "r") as f:
        for opt in f["runs"]:
            summary = f["summary"][opt].attrs
            label = summary["label"]
            template = summary.get("template", f.attrs["template"])
            for w in f["runs"][opt]:
                for s in f["runs"][opt][w]:
                    g = f["runs"][opt][w][s]
                    diverged = int(g.attrs["diverged_at"])
                    test_loss, test_acc = g["test_loss"][()], g["test_accuracy"][()]
                    rows.append(dict(optimizer=opt, label=label, template=template, width=int(w[1:]), seed=int(s[1:]),
                                     task=g.attrs["task"], final_loss=float(g.attrs["final_loss"]),
                                     diverged_at=None if diverged < 0 else diverged,
                                     test_loss=float(test_loss[-1]) if len(test_loss) else np.nan,
                                     test_accuracy=float(test_acc[-1]) if len(test_acc) else np.nan,
                                     steps=len(g["train_loss"])))
    return pd.DataFrame(rows).sort_values(["optimizer", "width", "seed"]).reset_index(drop=True)


def width_curves(path, width):
    """Training-loss curves at one width: columns (label, seed), index = step."""
    curves = {}
    with h5py.File(path, "r") as f:
        for opt in f["runs"]:
            label = f["summary"][opt].attrs["label"]
            runs = f["runs"][opt].get(f"w{width}", {})
            for s in runs:
                curves[(label, int(s[1:]))] = pd.Series(runs[s]["train_loss"][()])
    return pd.DataFrame(curves)


def settings(path):
    """The evaluation's settings: template, widths, steps, batch, seeds and each optimizer's settings."""
    with h5py.File(path, "r") as f:
        a = f.attrs
        return dict(template=a["template"], widths=list(a["widths"]), steps=int(a["steps"]), batch=int(a["batch"]),
                    seeds=int(a["seeds"]), optimizer_settings=json.loads(a["optimizer_settings"]))
