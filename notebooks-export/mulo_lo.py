"""Apply a learned optimizer exported by MuLO (`mulo export`, small_fc_lopt) with NumPy alone.

This is MuLO's update rule written out plainly (METHOD §2, the reference path of
`ReferenceLOStep.swift`): tested against `mulo` on tensors of rank 0–4 to 1e-6, so it is both a
working optimizer for users without PyLO and the readable reference of the export format.

    opt = LearnedOptimizer("notebooks-export/exports/mulo-m-fashionmnist")
    state = opt.init([p.shape for p in params])
    opt.update(params, grads, state, scales)      # params: float32 arrays, updated in place

Tensors are in MuLO's logical layout: a weight matrix is [fan_in, fan_out] (PyTorch's
`Linear.weight` is [out, in]: pass `w.T`). `scales` are μP's per-tensor s_W: 1/fan_in for hidden
weight matrices of a μP model, 1 for everything else (all 1 for an SP model).

`axis_rule="pylo"` picks the Adafactor factored axes on PyTorch's [out, in] shape of a matrix, as
PyLO does; it differs from MuLO (and the JAX reference) only on square matrices.
"""
import json
import os
import struct

import numpy as np

F32 = np.float32
TIMESCALES = F32([1, 3, 10, 30, 100, 300, 1000, 3000, 10000, 30000, 100000])
PYLO_NAMES = {"input": ("w0", "b0"), "linear_0": ("w1", "b1"), "output": ("w2", "b2")}


def read_safetensors(path):
    """The float32 tensors of a safetensors file (8-byte little-endian header length, JSON header, data)."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise ValueError(f"{path}: {name} is {info['dtype']}, expected F32")
        begin, end = info["data_offsets"]
        out[name] = np.frombuffer(data[begin:end], dtype="<f4").reshape(info["shape"]).astype(F32)
    return out


def factored_axes(shape):
    """(d1, d0): the second-largest and largest axes by a stable ascending sort, so a tie makes
    D0 the later axis; None below rank 2."""
    if len(shape) < 2:
        return None
    order = sorted(range(len(shape)), key=lambda a: (shape[a], a))
    return order[-2], order[-1]


def effective_decay(base, offset):
    """β = 1 − exp(10·(ln(1 − β0)/10 + θ_d)), in float32 in the reference's order."""
    x = np.log(F32(1) - F32(base)) / F32(10) + F32(offset)
    return F32(1) - np.exp(x * F32(10))


def safe_rsqrt(x):
    return F32(1) / np.sqrt(np.maximum(x, F32(1e-9)))


class LearnedOptimizer:
    def __init__(self, directory, axis_rule="mulo"):
        with open(os.path.join(directory, "config.json")) as f:
            cfg = json.load(f)
        if "momentum_decays" not in cfg:
            raise ValueError(f"{directory}/config.json carries no optimizer constants: re-export it with `mulo export`")
        if axis_rule not in ("mulo", "pylo"):
            raise ValueError("axis_rule must be 'mulo' or 'pylo'")
        self.axis_rule = axis_rule
        self.step_mult, self.exp_mult = F32(cfg["step_mult"]), F32(cfg["exp_mult"])
        self.momentum = [effective_decay(b, o) for b, o in zip(cfg["initial_momentum_decays"], cfg["momentum_decays"])]
        self.rms = np.clip(effective_decay(cfg["initial_rms_decays"][0], cfg["rms_decays"][0]), F32(0), F32(1))
        self.adafactor = [np.clip(effective_decay(b, o), F32(0), F32(1))
                          for b, o in zip(cfg["initial_adafactor_decays"], cfg["adafactor_decays"])]
        tensors = read_safetensors(os.path.join(directory, "model.safetensors"))
        self.mlp = {}
        for layer, (w, b) in PYLO_NAMES.items():
            self.mlp[w] = tensors[f"network.{layer}.weight"].T.copy()   # back to [in, out]
            self.mlp[b] = tensors[f"network.{layer}.bias"]

    def axes(self, shape):
        if self.axis_rule == "pylo" and len(shape) == 2:
            torch_axes = factored_axes(shape[::-1])          # on [out, in], then back to [in, out]
            return 1 - torch_axes[0], 1 - torch_axes[1]
        return factored_axes(shape)

    def init(self, shapes):
        """Zero accumulators per tensor and the step counter."""
        tensors = []
        for shape in shapes:
            shape = tuple(shape)
            s = {"momentum": np.zeros((3,) + shape, F32), "rms": np.zeros(shape, F32)}
            axes = self.axes(shape)
            if axes is None:
                s["v_diag"] = np.zeros((3,) + shape, F32)
            else:
                d1, d0 = axes
                s["v_row"] = np.zeros((3,) + tuple(n for a, n in enumerate(shape) if a != d0), F32)
                s["v_col"] = np.zeros((3,) + tuple(n for a, n in enumerate(shape) if a != d1), F32)
            tensors.append(s)
        return {"step": 0, "tensors": tensors}

    def update(self, params, grads, state, scales=None):
        """One step of every tensor, in place; then the step counter advances."""
        scales = [1.0] * len(params) if scales is None else scales
        time = np.tanh(F32(state["step"]) / TIMESCALES - F32(1)).astype(F32)
        for p, g, s, scale in zip(params, grads, state["tensors"], scales):
            p[...] = self.updated(p, g, s, time, F32(scale))
        state["step"] += 1

    def updated(self, p, g, s, time, scale):
        p = np.asarray(p, F32)
        # Non-finite and huge gradients: NaN → 0, clamp to ±1e18 (MuLO's GradientGuard).
        g = np.clip(np.nan_to_num(np.asarray(g, F32), nan=0.0, posinf=1e18, neginf=-1e18), F32(-1e18), F32(1e18)).astype(F32)
        for k in range(3):
            b = self.momentum[k]
            s["momentum"][k] = b * s["momentum"][k] + (F32(1) - b) * g
        s["rms"][...] = self.rms * s["rms"] + (F32(1) - self.rms) * (g * g)
        g2 = g * g + F32(1e-30)
        axes = self.axes(p.shape)
        row, col, fac_g, fac_scale = [], [], [], []
        if axes is None:
            for k in range(3):
                b = self.adafactor[k]
                s["v_diag"][k] = b * s["v_diag"][k] + (F32(1) - b) * g2
                vd = s["v_diag"][k]
                row.append(vd)
                col.append(vd)
                fac_g.append(g * safe_rsqrt(vd + F32(1e-9)))
                fac_scale.append(F32(1) / np.sqrt(vd + F32(1e-6)))
        else:
            d1, d0 = axes
            d1_in_r = d1 if d1 < d0 else d1 - 1
            mean_d0 = np.mean(g2.astype(np.float64), axis=d0).astype(F32)
            mean_d1 = np.mean(g2.astype(np.float64), axis=d1).astype(F32)
            for k in range(3):
                b = self.adafactor[k]
                s["v_row"][k] = b * s["v_row"][k] + (F32(1) - b) * mean_d0
                s["v_col"][k] = b * s["v_col"][k] + (F32(1) - b) * mean_d1
                r, c = s["v_row"][k], s["v_col"][k]
                # The row normaliser averages R over its D1 axis, once per index of the other axes.
                r_mean = np.mean(r.astype(np.float64), axis=d1_in_r, keepdims=True).astype(F32)
                row_fac = np.expand_dims(safe_rsqrt(r / (r_mean + F32(1e-9))), d0)
                col_fac = np.expand_dims(safe_rsqrt(c), d1)
                row.append(np.broadcast_to(np.expand_dims(r, d0), p.shape))
                col.append(np.broadcast_to(np.expand_dims(c, d1), p.shape))
                fac_g.append(g * row_fac * col_fac)
                fac_scale.append(np.broadcast_to(row_fac * col_fac, p.shape))
        m = s["momentum"]
        rsqrt_v = F32(1) / np.sqrt(s["rms"] + F32(1e-6))
        features = ([g, p, m[0], m[1], m[2], s["rms"]] + [m[k] * rsqrt_v for k in range(3)] + [rsqrt_v] + fac_g + row + col
                    + [F32(1) / np.sqrt(x + F32(1e-8)) for x in row] + [F32(1) / np.sqrt(x + F32(1e-8)) for x in col]
                    + [m[k] * fac_scale[k] for k in range(3)])
        # Each feature normalised by its root mean square over the tensor (mean in float64).
        x = np.stack([np.broadcast_to(f, p.shape).astype(F32).reshape(-1) for f in features], axis=1)
        norm = (1 / np.sqrt(1e-5 + np.mean(x.astype(np.float64) ** 2, axis=0))).astype(F32)
        x = np.concatenate([x * norm, np.broadcast_to(time, (x.shape[0], 11))], axis=1)
        z1 = np.maximum(x @ self.mlp["w0"] + self.mlp["b0"], F32(0))
        z2 = np.maximum(z1 @ self.mlp["w1"] + self.mlp["b1"], F32(0))
        out = z2 @ self.mlp["w2"] + self.mlp["b2"]
        step = out[:, 0] * np.exp(out[:, 1] * self.exp_mult) * self.step_mult
        return (p.reshape(-1) - step * scale).reshape(p.shape)
