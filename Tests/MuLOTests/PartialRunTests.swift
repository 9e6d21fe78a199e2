import Foundation
import MuLO
import Testing

/// `train` with a `PartialRun`: a run saved mid-way and resumed is the run never interrupted, for
/// every optimizer kind (each keeps a different state), and a saved file that is not this run's
/// is ignored rather than trusted.
@Suite("Resumable training runs")
struct PartialRunTests {
    static let task = "mumlp-w16-d2_synthetic-6x6x1"

    static func optimizer(_ name: String) throws -> any Optimizer {
        switch name {
        case "adamw": return Adam.adamW(schedule: .constant(1e-2), weightDecay: 1e-3)
        case "muadam": return Adam.muAdam(schedule: .constant(1e-1))
        case "sgd": return SGD(schedule: .constant(1e-1), momentum: 0.9)
        default: return try LOCheckpoint.loadAny(Support.repoRoot.appendingPathComponent("Checkpoints/\(name).h5").path).makeOptimizer()
        }
    }

    static func config(seed: UInt64 = 3) -> TrainConfig {
        TrainConfig(task: task, optimizer: "any", steps: 12, batchSize: 16, seed: seed, testInterval: 5, testExamples: 100)
    }

    static func expectSameRun(_ a: TrainResult, _ b: TrainResult, _ label: String) {
        #expect(a.trainLoss.map(\.bitPattern) == b.trainLoss.map(\.bitPattern), "\(label)")
        #expect(a.testSteps == b.testSteps && a.testLoss == b.testLoss && a.testAccuracy == b.testAccuracy, "\(label)")
        #expect(a.params == b.params && a.divergedAt == b.divergedAt, "\(label)")
    }

    @Test(arguments: ["adamw", "muadam", "sgd", "mulo-m-fashionmnist", "muvelo-m-fashionmnist", "velo-m-fashionmnist"])
    func aRunSavedMidwayResumesExactly(optimizer name: String) throws {
        let task = try MLPTaskName(parsing: Self.task).makeMLPTask(), opt = try Self.optimizer(name)
        let straight = try train(task: task, optimizer: opt, config: Self.config())
        let path = try Support.tempDir().appendingPathComponent("run.partial.h5").path
        // Saved at every step (interval 0), stopped before step 9: after the test at 5, before the one at 10.
        let stopped = try train(task: task, optimizer: opt, config: Self.config(), partial: PartialRun(path: path, interval: 0, stopBefore: 9))
        #expect(stopped.stoppedBefore == 9 && stopped.trainLoss.count == 9 && FileManager.default.fileExists(atPath: path))
        let resumed = try train(task: task, optimizer: opt, config: Self.config(), partial: PartialRun(path: path))
        Self.expectSameRun(resumed, straight, name)
        #expect(resumed.stoppedBefore == nil)
        #expect(resumed.wallTime >= stopped.wallTime, "time before the interruption counts")
    }

    @Test func aSavedRunOfOtherSettingsOrACorruptFileIsNotResumed() throws {
        let task = try MLPTaskName(parsing: Self.task).makeMLPTask(), opt = try Self.optimizer("adamw")
        let straight = try train(task: task, optimizer: opt, config: Self.config())
        let dir = try Support.tempDir(), path = dir.appendingPathComponent("run.partial.h5").path
        _ = try train(task: task, optimizer: opt, config: Self.config(seed: 4), partial: PartialRun(path: path, stopBefore: 6))
        Self.expectSameRun(try train(task: task, optimizer: opt, config: Self.config(), partial: PartialRun(path: path)), straight, "other seed")
        _ = try train(task: task, optimizer: opt, config: Self.config(), partial: PartialRun(path: path, stopBefore: 6))
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count / 2] ^= 0xff
        try bytes.write(to: URL(fileURLWithPath: path))
        Self.expectSameRun(try train(task: task, optimizer: opt, config: Self.config(), partial: PartialRun(path: path)), straight, "corrupt")
    }

    /// `mulo train` killed mid-run (SIGKILL, saved every step) or stopped (SIGTERM, which makes it
    /// save where it is and exit 143; before, it lost everything since the last save) and run
    /// again continues from its saved step to the file an uninterrupted run writes (curves and
    /// parameters), its live metrics holding each step once.
    @Test(arguments: [SIGKILL, SIGTERM])
    func interruptedTrainCommandContinues(signal: Int32) throws {
        let dir = try Support.tempDir()
        let (steps, saveInterval) = signal == SIGKILL ? (1200, "0") : (20_000, "3600")
        func args(_ out: String) -> [String] {
            ["train", "--task", "mumlp-w16-d2_synthetic-8x8x1", "--optimizer", "adam", "--steps", "\(steps)", "--batch", "16",
             "--test-interval", "250", "--test-examples", "50", "--save-interval", saveInterval, "--threads", "1",
             "--out", dir.appendingPathComponent(out).path]
        }
        let partial = dir.appendingPathComponent("cut.partial.h5").path
        let (at, status, again) = try Support.interruptedRun(args, whole: "whole.h5", cut: "cut.h5", partial: partial, atLeast: 300, signal: signal,
                                                             log: signal == SIGKILL ? nil : dir.appendingPathComponent("cut/metrics.jsonl").path)
        #expect((300..<steps).contains(at) && status == 128 + signal, "interrupted (exit \(status)) with the run saved at step \(at)")
        #expect(again.status == 0 && again.stdout.contains("continuing the run saved at step \(at)"), "\(again.stdout)\(again.stderr)")
        #expect(!FileManager.default.fileExists(atPath: partial), "the stored run's partial file goes")
        let (whole, cut) = try (HDF5File.open(dir.appendingPathComponent("whole.h5").path), HDF5File.open(dir.appendingPathComponent("cut.h5").path))
        for curve in ["curves/train_loss", "curves/test_loss", "curves/test_accuracy"] {
            #expect(try cut.read(curve, as: Float.self).values == whole.read(curve, as: Float.self).values, "\(curve)")
        }
        for name in try whole.children("params") {
            #expect(try cut.read("params/\(name)", as: Float.self).values == whole.read("params/\(name)", as: Float.self).values, "\(name)")
        }
        let logged = try Support.trainingLossSteps(dir.appendingPathComponent("cut/metrics.jsonl"))
        #expect(logged == Array(0..<steps), "\(logged.count) training-loss lines")
    }
}
