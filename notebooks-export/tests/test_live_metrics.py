"""Live metrics of long commands, read back the way users read them: `metrics.jsonl` line by line
and the TensorBoard event files with the `tensorboard` package's own reader (EventAccumulator),
including a resume whose orphaned steps must disappear from both."""
import json
import os
import pathlib
import subprocess

import h5py
import numpy as np
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

MULO = os.environ.get("MULO_BIN", str(pathlib.Path(__file__).resolve().parents[2] / ".build/release/mulo"))
CONFIG = """name = "live"
outer_steps = 6
[[families]]
template = "mumlp-w{W}-d2_synthetic-6x6x1"
widths = [8, 16]
batch_size = 16
[estimator]
pairs = 2
truncation = 3
episode_min = 6
episode_max = 12
initial_offset_max = 4
[checkpoint]
interval = 2
keep = 5
"""
FAMILIES = ["mumlp-w8-d2_synthetic-6x6x1", "mumlp-w16-d2_synthetic-6x6x1"]


def mulo(*args):
    subprocess.run([MULO, *args, "--threads", "1"], check=True, capture_output=True)


def lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def scalars(directory):
    acc = EventAccumulator(str(directory))
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def test_meta_train_logs_every_outer_step_once_across_a_resume(tmp_path):
    (tmp_path / "live.toml").write_text(CONFIG)
    run = tmp_path / "run"
    mulo("meta-train", str(tmp_path / "live.toml"), "--out", str(run), "--steps", "3", "--compare-width", "0")
    assert [l["step"] for l in lines(run / "metrics.jsonl")] == [1, 2, 3]
    # As if killed after logging step 3 but before its checkpoint: resume from step 2 redoes step 3.
    (run / "checkpoint-000003.h5").unlink()
    (run / "latest").write_text("checkpoint-000002.h5")
    mulo("meta-train", str(tmp_path / "live.toml"), "--out", str(run), "--resume", "--compare-width", "0")
    logged = lines(run / "metrics.jsonl")
    assert [l["step"] for l in logged] == [1, 2, 3, 4, 5, 6]
    expected = {"meta_loss", "learning_rate", "update_norm", "inner_steps_per_s"} | {
        f"{k}/{f}" for k in ("family_loss", "family_at_bound") for f in FAMILIES}
    assert set(logged[0]) == expected | {"step", "wall_time"}
    assert len(list(run.glob("events.out.tfevents.*"))) == 2
    tb = scalars(run)
    assert set(tb) == expected
    for tag, points in tb.items():
        assert [s for s, _ in points] == [1, 2, 3, 4, 5, 6], tag
    # The values are the run's: as float32, TensorBoard's, the JSON line's shortest text and the checkpoint's agree.
    from_json = np.float32([l["meta_loss"] for l in logged])
    assert np.array_equal(np.float32([v for _, v in tb["meta_loss"]]), from_json)
    with h5py.File(run / "checkpoint-000006.h5", "r") as f:
        assert np.array_equal(f["metrics/meta_loss"][()], from_json)


def test_train_logs_losses_and_test_evaluations(tmp_path):
    out = tmp_path / "r.h5"
    mulo("train", "--task", "mumlp-w16-d2_synthetic-6x6x1", "--steps", "25", "--test-interval", "10", "--out", str(out))
    logged = lines(tmp_path / "r" / "metrics.jsonl")
    assert [l["step"] for l in logged if "train_loss" in l] == list(range(25))
    assert [l["step"] for l in logged if "test_loss" in l] == [0, 10, 20, 25]
    tb = scalars(tmp_path / "r")
    assert set(tb) == {"train_loss", "test_loss", "test_accuracy"}
    assert [s for s, _ in tb["test_accuracy"]] == [0, 10, 20, 25]
    with h5py.File(out, "r") as f:
        assert np.array_equal(f["curves/train_loss"][()], np.float32([v for _, v in tb["train_loss"]]))
        assert np.array_equal(f["curves/train_loss"][()], np.float32([l["train_loss"] for l in logged if "train_loss" in l]))


def test_evaluate_on_width_logs_each_run_under_its_name(tmp_path):
    out = tmp_path / "eval"
    mulo("evaluate-on-width", "--baseline", "muadam", "--no-tune", "--lr", "0.01", "--template", "mumlp-w{W}-d2_synthetic-6x6x1",
         "--widths", "8", "16", "--steps", "12", "--seeds", "1", "--batch", "16", "--test-interval", "6",
         "--test-examples", "50", "--out", str(out))
    runs = {l["run"] for l in lines(out / "metrics.jsonl")}
    assert runs == {"muadam_w8_s0", "muadam_w16_s0"}
    for run in runs:
        assert [s for s, _ in scalars(out / "tensorboard" / run)["train_loss"]] == list(range(12))
