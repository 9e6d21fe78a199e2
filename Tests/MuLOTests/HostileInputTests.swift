import Foundation
@testable import MuLO
@testable import MuLOMeta
@testable import MuLOTraining
import Testing

/// The crashes and silent acceptances issue 16 found, one test each: every one is a clear
/// error now (the previous release crashed or went on with other values).
@Suite("Hostile inputs", .serialized)
struct HostileInputTests {
    /// A command that must fail cleanly: exit 1, an `error:` line, no crash report.
    static func refused(_ args: [String], mentions text: String, cwd: URL? = nil) throws {
        let r = try Support.mulo(args, cwd: cwd)
        #expect(r.status == 1 || r.status == 64, "\(args): exit \(r.status)")
        #expect(r.stderr.lowercased().contains("error") && r.stderr.contains(text), "\(args): \(r.stderr)")
        #expect(!r.stderr.contains("crashed") && !r.stderr.contains("Fatal error"), "\(args): \(r.stderr)")
    }

    @Test func absurdWidthsAndSizesFromFlagsAndConfigs() throws {
        let dir = try Support.tempDir()
        for width in ["1099511627776", "4611686018427387904"] {
            try Self.refused(["evaluate-on-width", "--checkpoint", Support.repoRoot.appendingPathComponent("Checkpoints/mulo-m-fashionmnist.h5").path,
                              "--widths", width, "--template", "mumlp-w{W}-d1_synthetic-8x8x1", "--steps", "3", "--seeds", "1",
                              "--out", dir.appendingPathComponent("e").path], mentions: "2^20")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("e").path))
        try Self.refused(["lo-init", "--hidden-size", "2147483648", "--out", dir.appendingPathComponent("t.h5").path], mentions: "4096")
        for (key, value) in [("hidden_size", "2147483648"), ("widths", "[4611686018427387904]")] {
            var text = MetaTrainCommandTests.config
            text = key == "widths" ? text.replacingOccurrences(of: "widths = [8, 12]", with: "widths = \(value)")
                : text.replacingOccurrences(of: "[estimator]", with: "[learned_optimizer]\nhidden_size = \(value)\n[estimator]")
            let toml = dir.appendingPathComponent("\(key).toml")
            try text.write(to: toml, atomically: true, encoding: .utf8)
            try Self.refused(["meta-train", toml.path, "--out", dir.appendingPathComponent("m").path], mentions: key == "widths" ? "2^20" : "hidden")
        }
    }

    /// A width, a baseline or a θ file's name given twice made two runs write one file: found only
    /// after all the training (an HDF5 error, or a crash on the baseline's duplicate key). Now each
    /// is refused before any work; a repeated coord-check width too (it trained that width twice).
    @Test func repeatedEntriesAreRefused() throws {
        let dir = try Support.tempDir()
        let run = dir.appendingPathComponent("e").path
        let common = ["--template", "mumlp-w{W}-d1_synthetic-8x8x1", "--steps", "3", "--seeds", "1", "--out", run]
        try Self.refused(["evaluate-on-width", "--baseline", "adamw", "--no-tune", "--widths", "8", "16", "8"] + common,
                         mentions: "--widths lists 8 twice")
        try Self.refused(["evaluate-on-width", "--baseline", "adamw", "--baseline", "sgd", "--baseline", "adamw", "--no-tune",
                          "--widths", "8"] + common, mentions: "--baseline adamw is given twice")
        let shipped = Support.repoRoot.appendingPathComponent("Checkpoints/mulo-m-fashionmnist.h5")
        let copy = dir.appendingPathComponent("mine/mulo-m-fashionmnist.h5")
        try FileManager.default.createDirectory(at: copy.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: shipped, to: copy)
        try Self.refused(["evaluate-on-width", "--checkpoint", shipped.path, "--checkpoint", copy.path, "--widths", "8"] + common,
                         mentions: "share the run name 'lo-mulo-m-fashionmnist'")
        #expect(!FileManager.default.fileExists(atPath: run))
        try Self.refused(["coord-check", "--widths", "8", "8", "--template", "mumlp-w{W}-d1_synthetic-8x8x1", "--steps", "2",
                          "--out", run], mentions: "--widths lists 8 twice")
        #expect(!FileManager.default.fileExists(atPath: run))
    }

    /// Sizes the parsers accept but no machine holds are refused before anything is allocated,
    /// with what they would need (the allocator's failure was a stack dump): a width of 2^20
    /// (~2e12 parameters for an MLP, ~1.5e11 for a transformer at 2^16), a billion PES pairs,
    /// a bench of 1e12 parameters.
    @Test func workBeyondTheMachinesMemory() throws {
        let dir = try Support.tempDir()
        let run = dir.appendingPathComponent("r")
        for task in ["mumlp-w1048576-d3_synthetic-8x8x1", "mutransformer-w65536-d3_austen-s8-bytes"] {
            try Self.refused(["train", "--task", task, "--steps", "1", "--out", run.path + ".h5"], mentions: "GB of memory")
        }
        try Self.refused(["evaluate-on-width", "--baseline", "muadam", "--no-tune", "--widths", "1048576", "--template",
                          "mumlp-w{W}-d3_synthetic-8x8x1", "--steps", "1", "--seeds", "1", "--out", run.path], mentions: "GB of memory")
        let toml = dir.appendingPathComponent("pairs.toml")
        try MetaTrainCommandTests.config.replacingOccurrences(of: "pairs = 2", with: "pairs = 1000000000").write(to: toml, atomically: true, encoding: .utf8)
        try Self.refused(["meta-train", toml.path, "--out", run.path], mentions: "PES with 1000000000 antithetic pairs")
        try Self.refused(["bench", "lo", "--params", "1000000000000"], mentions: "GB of memory")
        // The comparison after a meta-training: refused before it, not after minutes of meta-training.
        let tiny = dir.appendingPathComponent("tiny.toml")
        try MetaTrainCommandTests.config.write(to: tiny, atomically: true, encoding: .utf8)
        try Self.refused(["meta-train", tiny.path, "--compare-width", "1048576", "--out", run.path], mentions: "GB of memory")
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: dir.path)) == ["pairs.toml", "tiny.toml"])
        // The budget itself: at most the machine's memory; exactly it is allowed, more is not.
        #expect(MemoryBudget.bytes > 0 && MemoryBudget.bytes <= Double(ProcessInfo.processInfo.physicalMemory))
        try MemoryBudget.check(MemoryBudget.bytes, "the whole budget")
        #expect(throws: ResourceError.self) { try MemoryBudget.check(MemoryBudget.bytes * 1.01, "more") }
    }

    @Test func idxHeadersClaimingHugeSizes() {
        // 2^31 × 2^31 × 2^31 wraps under -Ounchecked; the product is checked now.
        let header: [UInt8] = [0, 0, 8, 3, 128, 0, 0, 0, 128, 0, 0, 0, 128, 0, 0, 0]
        #expect(throws: DataError.self) { try IDXFile(data: header + [1, 2, 3], expectRank: 3, source: "huge.idx") }
        #expect(CheckedSize.product([1 << 31, 1 << 31, 1 << 31], limit: .max) == nil && CheckedSize.product([3, 4]) == 12)
    }

    @Test func thetaValuesOutsideTheirDomain() throws {
        let dir = try Support.tempDir()
        let theta = LOTheta.initial(key: RNGKey(seed: 1))
        var nan = theta
        nan.w1.data[5] = .nan
        var wildDecay = theta
        wildDecay.momentumDecays.data[0] = 5  // 1 − 0.1·e^50 < 0
        var zeroStep = LOConfig.mu
        zeroStep.stepMult = 0
        var badBase = LOConfig.mu
        badBase.baseRMSDecays = [1.5]
        for (k, (t, c, text)) in [(nan, LOConfig.mu, "non-finite"), (wildDecay, .mu, "decays"), (theta, zeroStep, "step_mult"),
                                  (theta, badBase, "base decays")].enumerated() {
            let path = dir.appendingPathComponent("\(k).h5").path
            try LOCheckpoint.save(t, config: c, to: path)
            #expect(throws: LOError.self, "\(text)") { try LOCheckpoint.loadAny(path) }
            try Self.refused(["train", "--optimizer", "lo", "--checkpoint", path, "--task", "mumlp-w8-d1_synthetic-8x8x1", "--steps", "2",
                              "--out", dir.appendingPathComponent("run\(k).h5").path], mentions: text)
        }
        // Offsets past the clip of the RMS and Adafactor decays (METHOD §2.1) are valid: the decay is 0 or 1 there.
        var clipped = theta
        clipped.adafactorDecays.data[0] = 0.5  // 1 − 0.1·e^5 < 0 → clipped to 0
        clipped.rmsDecays.data[0] = -5          // → 1 − 0.001·e^−50, rounds to 1
        let ok = dir.appendingPathComponent("clipped.h5").path
        try LOCheckpoint.save(clipped, config: .mu, to: ok)
        let d = LODecays(theta: clipped, config: .mu)
        #expect(d.adafactor[0] == 0 && d.rms == 1)
        _ = try LOCheckpoint.loadAny(ok)  // no error
        let r = try Support.mulo(["train", "--optimizer", "lo", "--checkpoint", ok, "--task", "mumlp-w8-d1_synthetic-8x8x1", "--steps", "2",
                                  "--out", dir.appendingPathComponent("clipped-run.h5").path])
        #expect(r.status == 0, "\(r.stderr)")
    }

    @Test func checkpointCountersAndMomentsOutsideTheirDomain() throws {
        let dir = try Support.tempDir()
        let edits: [(String, (inout MetaState<SmallFCLOpt>) -> Void)] = [
            ("count", { $0.adam.count = -5 }), ("v ≥ 0", { $0.adam.v[3] = -1 }), ("episode_step", { $0.particles[0][0].episodeStep = -1 }),
            ("episode_step", { $0.particles[0][0].episodeStep = Int.max }), ("lo_step", { $0.particles[0][0].pos.lo.step = -2 }),
        ]
        for (k, (text, edit)) in edits.enumerated() {
            let trainer = try MetaTrainer(config: MetaTrainingTests.tiny(), threads: 1)
            try trainer.outerStep()
            edit(&trainer.state)
            let path = dir.appendingPathComponent("\(k).h5").path
            try MetaCheckpoint.save(trainer, to: path)
            let fresh = try MetaTrainer(config: MetaTrainingTests.tiny(), threads: 1)
            #expect(throws: (any Error).self, "\(text)") { try MetaCheckpoint.restore(fresh, from: path) }
        }
    }

    @Test func labelsBeyondInt32AreNotAnotherClass() throws {
        let dir = try Support.tempDir()
        let file = try HDF5File.create(dir.appendingPathComponent("cifar10-32x32x3.h5").path)
        try file.write("images", shape: [4, 32, 32, 3], [UInt8](repeating: 7, count: 4 * 3072))
        try file.write("labels", shape: [4], [Int64(1) << 32 + 3, 1, 2, 3])
        try file.commit()
        try Self.refused(["train", "--task", "mumlp-w8-d1_cifar10-32x32x3", "--steps", "2", "--batch", "2", "--data-dir", dir.path,
                          "--out", dir.appendingPathComponent("r.h5").path], mentions: "outside int32")
    }

    @Test func exportsEditedOrShifted() throws {
        let dir = try Support.tempDir()
        let theta = dir.appendingPathComponent("t.h5").path, export = dir.appendingPathComponent("x")
        #expect(try Support.mulo(["lo-init", "--out", theta]).status == 0)
        #expect(try Support.mulo(["export", theta, "--out", export.path]).status == 0)
        let pristine = try FileManager.default.contentsOfDirectory(atPath: export.path)
        func variant(_ name: String, _ edit: (URL) throws -> Void) throws -> URL {
            let copy = dir.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: copy, withIntermediateDirectories: true)
            for f in pristine { try FileManager.default.copyItem(at: export.appendingPathComponent(f), to: copy.appendingPathComponent(f)) }
            try edit(copy)
            return copy
        }
        func editJSON(_ file: String, _ change: @escaping (inout [String: Any]) -> Void) -> (URL) throws -> Void {
            { dir in
                let url = dir.appendingPathComponent(file)
                var object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
                change(&object)
                try JSONSerialization.data(withJSONObject: object).write(to: url)
            }
        }
        let cases: [(String, (URL) throws -> Void, String)] = [
            ("string-step", editJSON("mulo_lo.json") { $0["step_mult"] = "0.01" }, "step_mult must be a number"),
            ("int-parametrization", editJSON("mulo_lo.json") { $0["parametrization"] = 1 }, "parametrization must be a string"),
            ("bool-layers", editJSON("config.json") { $0["hidden_layers"] = true }, "hidden_layers must be an integer"),
            ("hidden", editJSON("config.json") { $0["hidden_size"] = 16 }, "network.input.bias: shape [32], expected [16]"),
            // The header length one larger and a space inside it: every tensor shifted by one byte.
            ("shifted", { dir in
                let url = dir.appendingPathComponent("model.safetensors")
                var b = [UInt8](try Data(contentsOf: url))
                let n = Int(b[0]) | Int(b[1]) << 8
                b.insert(0x20, at: 8 + n - 1)
                (b[0], b[1]) = (UInt8((n + 1) & 0xff), UInt8((n + 1) >> 8))
                b.removeLast()
                try Data(b).write(to: url)
            }, "model.safetensors"),
        ]
        for (name, edit, text) in cases {
            let edited = try variant(name, edit)
            try Self.refused(["import", edited.path, "--out", dir.appendingPathComponent("\(name).h5").path], mentions: text)
        }
    }

    /// A file without MuLO's seal that makes libhdf5 itself segfault (found by fuzzing; the probe
    /// subcommand dies by signal on it, so the file really crashes the library): the command
    /// reads it in a child process first and reports it, instead of dying with it.
    @Test func unsealedFileThatCrashesLibHDF5IsAnError() throws {
        let path = Support.repoRoot.appendingPathComponent("Tests/Fixtures/hostile/unsealed-libhdf5-segfault.h5").path
        let probe = try Support.mulo(["check-hdf5-file", path])
        #expect(probe.status == SIGSEGV, "the fixture no longer crashes libhdf5: \(probe.status)")
        let out = try Support.tempDir().appendingPathComponent("o.h5").path
        let r = try Support.mulo(["train", "--checkpoint", path, "--task", "mumlp-w8-d1_synthetic-4x4x1", "--steps", "2", "--out", out])
        #expect(r.status == 1 && r.stderr.contains("libhdf5 crashes reading this file"), "\(r.status) \(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}
