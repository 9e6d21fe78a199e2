import Foundation
import MuLO
import Testing

/// End-to-end: the built `mulo` tool, its output and its files.
@Suite("mulo command line", .serialized)
struct CommandLineTests {
    @Test func trainOnSyntheticWritesAReadableRun() throws {
        let dir = try Support.tempDir()
        let out = dir.appendingPathComponent("run.h5").path
        let r = try Support.mulo(["train", "--task", "mumlp-w32-d2_synthetic-8x8x1", "--optimizer", "adam", "--lr", "3e-3",
                                  "--steps", "120", "--batch", "32", "--seed", "0", "--test-interval", "40", "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("wrote \(out)"))
        #expect(r.stderr.contains("step 120/120"))  // plain progress lines when not on a TTY
        let f = try HDF5File.open(out)
        let loss = try f.read("curves/train_loss", as: Float.self).values
        #expect(loss.count == 120)
        #expect(loss.suffix(10).reduce(0, +) < loss.prefix(10).reduce(0, +))
        #expect(try f.read("curves/eval_step", as: Int64.self).values == [0, 40, 80, 120])
        let config = try JSONDecoder().decode(TrainConfig.self, from: Data(try f.attributeString("config").utf8))
        #expect(config.task == "mumlp-w32-d2_synthetic-8x8x1" && config.steps == 120)
        #expect(try f.children("params").count == 6)
        let dump = try Support.run(URL(fileURLWithPath: "/usr/bin/h5dump"), ["-H", out])
        #expect(dump.status == 0 && dump.stdout.contains("train_loss"))
    }

    @Test(.enabled(if: Support.fashionMNISTAvailable, "needs Debian's dataset-fashion-mnist"))
    func trainOnFashionMNIST() throws {
        let dir = try Support.tempDir()
        let out = dir.appendingPathComponent("fm.h5").path
        let r = try Support.mulo(["train", "--task", "mumlp-w64-d3_fashionmnist-28x28x1", "--optimizer", "muadam", "--lr", "0.03", "--steps", "100",
                                  "--batch", "64", "--eval-interval", "0", "--eval-examples", "2000", "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        let f = try HDF5File.open(out)
        let loss = try f.read("curves/train_loss", as: Float.self).values
        let (early, late): (Float, Float) = (loss.prefix(10).reduce(0, +), loss.suffix(10).reduce(0, +))
        #expect(late < 0.7 * early)
        #expect(try f.read("curves/test_accuracy", as: Float.self).values.last! > 0.6)
    }

    /// `mulo train` with no --task trains its documented default (a rename once left it a name no
    /// task parser accepts, so the bare command failed).
    @Test(.enabled(if: Support.fashionMNISTAvailable, "needs Debian's dataset-fashion-mnist"))
    func trainsItsDefaultTask() throws {
        let out = try Support.tempDir().appendingPathComponent("default.h5").path
        let r = try Support.mulo(["train", "--steps", "1", "--batch", "8", "--test-interval", "0", "--test-examples", "8", "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        let config = try JSONDecoder().decode(TrainConfig.self, from: Data(try HDF5File.open(out).attributeString("config").utf8))
        #expect(config.task == "mumlp-w128-d3_fashionmnist-28x28x1")
    }

    /// One process per run file: while one `mulo train` writes OUT, a second one (even with
    /// --overwrite) is refused at once, naming the holder, instead of interleaving its live
    /// metrics and partial saves; a killed holder never blocks the next run.
    @Test func oneTrainPerRunFile() throws {
        let dir = try Support.tempDir()
        let out = dir.appendingPathComponent("run.h5").path
        let args = ["train", "--task", "mumlp-w64-d2_synthetic-8x8x1", "--batch", "16", "--test-interval", "0", "--threads", "1", "--out", out]
        let first = Process()
        first.executableURL = Support.muloExecutable
        first.arguments = args + ["--steps", "10000000"]
        (first.standardOutput, first.standardError) = (FileHandle.nullDevice, FileHandle.nullDevice)
        try first.run()
        defer { if first.isRunning { kill(first.processIdentifier, SIGKILL) } }
        let deadline = Date().addingTimeInterval(20)
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("run/metrics.jsonl").path) && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
        }
        for extra in [[], ["--overwrite"]] {
            let second = try Support.mulo(args + ["--steps", "5"] + extra)
            #expect(second.status != 0 && second.stderr.contains("in use by another process")
                        && second.stderr.contains("\(first.processIdentifier)"), "\(extra): \(second.stderr)")
        }
        #expect(first.isRunning)
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        let next = try Support.mulo(args + ["--steps", "5"])
        #expect(next.status == 0, "\(next.stderr)")
        #expect(try HDF5File.open(out).read("curves/train_loss", as: Float.self).values.count == 5)
    }

    @Test(arguments: [["--optimizer", "adamax"], ["--lr", "-1"], ["--steps", "0"], ["--task", "mumlp-w0-d3_synthetic-8x8x1"],
                      ["--batch", "0"], ["--bogus"], ["--task", "mumlp-w8-d1_nosuchdata-8x8x1"],
                      ["--out", "/nonexistent-dir/x.h5"],
                      // Transformer tasks: unknown corpus, S < 2, heads not dividing the width, patch not dividing the image.
                      ["--task", "mutransformer-w16-d1_nosuchcorpus-s8-bytes"], ["--task", "mutransformer-w16-d1_austen-s1-bytes"],
                      ["--task", "mutransformer-w18-d1-h4_austen-s8-bytes"], ["--task", "muvit-w16-d1-p3_synthetic-8x8x1"]])
    func badFlagsFailCleanlyAndWriteNothing(flags: [String]) throws {
        let dir = try Support.tempDir()
        let out = dir.appendingPathComponent("never.h5").path
        var args = ["train", "--task", "mumlp-w8-d1_synthetic-8x8x1", "--steps", "5", "--out", out]
        args += flags
        let r = try Support.mulo(args, cwd: dir)
        #expect(r.status != 0)
        #expect(r.stderr.lowercased().contains("error"))
        #expect(!r.stderr.contains("Fatal error") && !r.stderr.contains("Stack dump"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }

    /// Commands that write one file never replace an existing one unless asked (--overwrite).
    @Test func singleFileOutputsAreNotOverwritten() throws {
        let dir = try Support.tempDir()
        let theta = dir.appendingPathComponent("theta.h5").path
        #expect(try Support.mulo(["lo-init", "--seed", "1", "--out", theta]).status == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: theta))
        let again = try Support.mulo(["lo-init", "--seed", "2", "--out", theta])
        #expect(again.status != 0 && again.stderr.contains("already exists"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: theta)) == before)
        #expect(try Support.mulo(["lo-init", "--seed", "2", "--out", theta, "--overwrite"]).status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: theta)) != before)
        let train = ["train", "--task", "mumlp-w8-d1_synthetic-8x8x1", "--steps", "2", "--out", theta]
        let refused = try Support.mulo(train)
        #expect(refused.status != 0 && refused.stderr.contains("already exists"))
        let export = dir.appendingPathComponent("export").path
        #expect(try Support.mulo(["export", theta, "--format", "pylo", "--out", export]).status == 0)
        let imported = try Support.mulo(["import", export, "--out", theta])
        #expect(imported.status != 0 && imported.stderr.contains("already exists"))
        // Without --out, train's default file in runs/ is protected the same way.
        #expect(try Support.mulo(["train", "--task", "mumlp-w8-d1_synthetic-8x8x1", "--steps", "2"], cwd: dir).status == 0)
        let rerun = try Support.mulo(["train", "--task", "mumlp-w8-d1_synthetic-8x8x1", "--steps", "2"], cwd: dir)
        #expect(rerun.status != 0 && rerun.stderr.contains("already exists"))
    }

    /// `train` calls a run diverged by evaluate-on-width's rule: a finite loss above the task's
    /// bound counts (Adam at lr 1e30 kept a loss of 2e29 and was recorded as converged before).
    @Test func trainUsesTheOneDivergenceRule() throws {
        let dir = try Support.tempDir()
        let out = dir.appendingPathComponent("run.h5").path
        let r = try Support.mulo(["train", "--task", "mumlp-w16-d2_synthetic-8x8x1", "--optimizer", "adam", "--lr", "1e30",
                                  "--steps", "30", "--out", out])
        #expect(r.status == 0 && r.stdout.contains("diverged at step"), "\(r.stdout)")
        let f = try HDF5File.open(out)
        let step = try f.attributeInt("diverged_at")
        let loss = try f.read("curves/train_loss", as: Float.self).values
        #expect(step >= 0 && loss.count == step + 1 && !(loss[step] <= classificationLossBound(classes: 10)))
    }

    /// A mistyped command or config name gets the nearest one in its error.
    @Test func typosSuggestTheCommandOrConfigMeant() throws {
        for (args, meant) in [(["tran"], "`mulo train`"), (["evalute-on-width"], "`mulo evaluate-on-width`"),
                              (["meta-train", "mulo-m-fashionmnst"], "`mulo-m-fashionmnist`")] {
            let r = try Support.mulo(args + ["--out", try Support.tempDir().appendingPathComponent("x").path])
            #expect(r.status != 0 && r.stderr.contains("did you mean \(meant)?"), "\(args): \(r.stderr)")
        }
    }

    /// Bare `mulo` starts nothing: it prints the overview naming the main job, and writes no file.
    @Test func bareMuloPrintsAnOverview() throws {
        let dir = try Support.tempDir()
        let r = try Support.mulo([], cwd: dir)
        #expect(r.status == 0 && r.stdout.contains("The main job is `mulo meta-train`") && r.stdout.contains("evaluate-on-width"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }

    @Test func checkReferencePassesOnTheGoldenFile() throws {
        let r = try Support.mulo(["check-reference", Support.goldenPath])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("ok    mumlp_task/loss"))
        #expect(!r.stdout.contains("FAIL"))
    }

    @Test func checkReferenceFailsOnAWrongReference() throws {
        let dir = try Support.tempDir()
        let path = dir.appendingPathComponent("wrong.h5").path
        // A copy of the golden task with one gradient entry changed must be caught.
        let src = try HDF5File.open(Support.goldenPath)
        let dst = try HDF5File.create(path)
        let g = "mumlp_task"
        for a in ["layers", "input_dim", "classes"] { try dst.setAttribute(a, try src.attributeInt(a, on: g), on: g) }
        for a in ["input_mult", "output_mult"] { try dst.setAttribute(a, try src.attributeDouble(a, on: g), on: g) }
        try dst.setAttribute("widths", try src.attributeInts("widths", on: g), on: g)
        for sub in ["params", "grads", "lr_scale"] {
            for name in try src.children("\(g)/\(sub)") {
                var t = try src.readTensor("\(g)/\(sub)/\(name)")
                if sub == "grads" && name == "linear_1.w" { t.data[3] += 1e-3 }
                try dst.write("\(g)/\(sub)/\(name)", t)
            }
        }
        for name in ["x", "logits", "loss"] { try dst.write("\(g)/\(name)", try src.readTensor("\(g)/\(name)")) }
        try dst.write("\(g)/y", shape: [8], try src.read("\(g)/y", as: Int32.self).values)
        try dst.commit()
        let r = try Support.mulo(["check-reference", path])
        #expect(r.status != 0)
        #expect(r.stdout.contains("FAIL  mumlp_task/grads/linear_1.w"))
        let missing = try Support.mulo(["check-reference", dir.appendingPathComponent("none.h5").path])
        #expect(missing.status != 0 && missing.stderr.contains("no such file"))
    }

    @Test func benchInnerPrintsJSON() throws {
        let r = try Support.mulo(["bench", "inner", "--widths", "32", "64", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        struct Out: Decodable { let host: BenchHost; let rows: [InnerBenchRow] }
        let out = try JSONDecoder().decode(Out.self, from: Data(r.stdout.utf8))
        #expect(out.rows.map(\.width) == [32, 64] && out.host.sgemm_gflops > 0 && out.host.memory_gbs > 0)
        #expect(out.host.kernel_isa == KernelVariant.isa && !out.host.cpu_model.isEmpty)
        #expect(out.host.blas_core == BLAS.coreName && !out.host.blas_core.isEmpty)
    }
}

@Suite("mulo learned-optimizer commands", .serialized)
struct LearnedOptimizerCommandTests {
    @Test func loInitThenTrainWithTheLearnedOptimizer() throws {
        let dir = try Support.tempDir()
        let theta = dir.appendingPathComponent("theta.h5").path
        #expect(try Support.mulo(["lo-init", "--parametrization", "mu", "--seed", "3", "--out", theta]).status == 0)
        let out = dir.appendingPathComponent("run.h5").path
        let r = try Support.mulo(["train", "--task", "mumlp-w16-d2_synthetic-8x8x1", "--optimizer", "lo", "--checkpoint", theta,
                                  "--steps", "10", "--batch", "16", "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        let loss = try HDF5File.open(out).read("curves/train_loss", as: Float.self).values
        #expect(loss.count == 10 && loss.allSatisfy(\.isFinite))
    }

    @Test func parametrizationMismatchIsRefusedUnlessForced() throws {
        let dir = try Support.tempDir()
        let theta = dir.appendingPathComponent("theta.h5").path
        #expect(try Support.mulo(["lo-init", "--parametrization", "sp", "--out", theta]).status == 0)
        let args = ["train", "--task", "mumlp-w16-d1_synthetic-4x4x1", "--optimizer", "lo", "--checkpoint", theta,
                    "--steps", "3", "--batch", "8", "--out", dir.appendingPathComponent("x.h5").path]
        let refused = try Support.mulo(args)
        #expect(refused.status != 0 && refused.stderr.contains("--force"))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("x.h5").path))
        #expect(try Support.mulo(args + ["--force"]).status == 0)
        // Forced, the SP LO keeps its own update rule (s_W = 1 everywhere), and the run file says so.
        let forced = try HDF5File.open(dir.appendingPathComponent("x.h5").path).attributeString("config")
        #expect(forced.contains("\"update_scales\":\"sp\""), "\(forced)")
        let notLO = try Support.mulo(["train", "--optimizer", "lo", "--checkpoint", Support.goldenPath, "--steps", "1",
                                      "--task", "mumlp-w8-d1_synthetic-4x4x1", "--out", dir.appendingPathComponent("y.h5").path])
        #expect(notLO.status != 0 && notLO.stderr.contains("theta"))
        let noCheckpoint = try Support.mulo(["train", "--optimizer", "lo", "--steps", "1"])
        #expect(noCheckpoint.status != 0 && noCheckpoint.stderr.contains("--checkpoint"))
    }

    @Test func checkReferenceCoversTheLearnedOptimizerCases() throws {
        let r = try Support.mulo(["check-reference"], env: ["MULO_GOLDEN": Support.goldenPath])
        #expect(r.status == 0, "\(r.stdout)")
        for name in ["sp", "mu", "mu_late"] {
            #expect(r.stdout.contains("ok    cases/\(name) [fast] step 5 params"))
            #expect(r.stdout.contains("ok    cases/\(name) [reference] final_state"))
        }
    }

    @Test func benchLOPrintsTheDocumentedJSON() throws {
        let r = try Support.mulo(["bench", "lo", "--params", "20000", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let out = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let host = try #require(out["host"] as? [String: Any])
        for key in ["cpu_model", "host_isa", "kernel_isa", "kernel_march", "blas_core", "threads", "sgemm_gflops", "memory_gbs"] {
            #expect(host[key] != nil, "host.\(key)")
        }
        let rows = try #require(out["rows"] as? [[String: Any]])
        for key in ["params", "lo_ns_per_param", "adam_ns_per_param", "bound_ns_per_param", "over_bound",
                    "memory_bound_ns_per_param", "schedule_bound_ns_per_param"] { #expect(rows[0][key] != nil, "\(key)") }
        // The phases' bound lies between the larger of the compute bound and the earlier sweeps'
        // traffic (56 of a matrix's 84 B, 64 of a vector's 104 B) and the sum of both bounds.
        let (compute, memory) = (try #require(rows[0]["bound_ns_per_param"] as? Double), try #require(rows[0]["memory_bound_ns_per_param"] as? Double))
        let schedule = try #require(rows[0]["schedule_bound_ns_per_param"] as? Double)
        #expect(schedule >= max(compute, memory * 56 / 84) && schedule <= compute + memory, "\(schedule) vs \(compute), \(memory)")
    }

    /// `bench meta` for each architecture: μVeLO on its μP task, VeLO refused on one (it is SP).
    @Test func benchMetaRunsEveryArchitecture() throws {
        for optimizer in ["small_fc_lopt", "muvelo"] {
            let r = try Support.mulo(["bench", "meta", "--optimizer", optimizer, "--task", "mumlp-w16-d2_synthetic-8x8x1", "--pairs", "1",
                                      "--truncation", "3", "--outer-steps", "1", "--batch", "8", "--json"])
            #expect(r.status == 0, "\(r.stderr)")
            let out = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            let result = try #require(out["result"] as? [String: Any])
            #expect((result["inner_steps_per_s"] as? Double ?? 0) > 0 && (result["lo_step_ms"] as? Double ?? 0) > 0)
        }
        let velo = try Support.mulo(["bench", "meta", "--optimizer", "velo", "--task", "mumlp-w16-d2_synthetic-8x8x1"])
        #expect(velo.status != 0 && velo.stderr.contains("SP (mlp-…) tasks"))
    }
}
