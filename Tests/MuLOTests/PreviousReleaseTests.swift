import Foundation
import Testing
@testable import MuLO

/// Files written by the previous release (Tests/Fixtures/previous-release, README there) load,
/// resume and evaluate as they did with this build (bit for bit where OpenBLAS runs the fixtures' kernels).
@Suite("files of the previous release", .serialized)
struct PreviousReleaseTests {
    static let fixtures = Support.repoRoot.appendingPathComponent("Tests/Fixtures/previous-release")
    static func fixture(_ name: String) -> String { fixtures.appendingPathComponent(name).path }

    func floats(_ path: String, _ object: String) throws -> [Float] { try HDF5File.open(path).read(object, as: Float.self).values }

    /// Equal up to the order of sgemm's sums: OpenBLAS picks its kernels by CPU, or by
    /// OPENBLAS_CORETYPE where a machine sets it (Haswell's on some, measured: 2 of 64 weights of
    /// this file's 6-step run one ulp off the fixture, nothing else), so the fixtures' bits are those
    /// of the machine that wrote them. A file read wrongly is off by far more than 1e-6.
    func agree(_ a: [Float], _ b: [Float]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { x, y in x == y || abs(x - y) <= 1e-6 * max(abs(x), abs(y)) }
    }

    @Test func oldCheckpointResumesToTheOldTheta() throws {
        let run = try Support.tempDir().appendingPathComponent("run")
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Self.fixture("checkpoint-000002.h5"),
                                         toPath: run.appendingPathComponent("checkpoint-000002.h5").path)
        try "checkpoint-000002.h5".write(to: run.appendingPathComponent("latest"), atomically: true, encoding: .utf8)
        let r = try Support.mulo(["meta-train", Self.fixture("cli-tiny.toml"), "--out", run.path, "--resume", "--steps", "4",
                                  "--threads", "1", "--compare-width", "0"])
        #expect(r.status == 0, "\(r.stderr)")
        let new = try LOCheckpoint.load(run.appendingPathComponent("theta.h5").path).theta.flat
        let old = try LOCheckpoint.load(Self.fixture("theta-after-4.h5")).theta.flat
        #expect(agree(new, old))
    }

    @Test func oldThetaTrainsTheSameRun() throws {
        let out = try Support.tempDir().appendingPathComponent("train.h5").path
        let r = try Support.mulo(["train", "--optimizer", "lo", "--checkpoint", Self.fixture("theta-after-4.h5"),
                                  "--task", "mumlp-w8-d2_synthetic-6x6x1", "--steps", "6", "--batch", "16",
                                  "--eval-interval", "3", "--eval-examples", "64", "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        let old = Self.fixture("train-lo.h5")
        for object in ["curves/train_loss", "curves/test_loss", "curves/test_accuracy", "params/linear_1.w", "params/linear_2.b"] {
            #expect(try agree(floats(out, object), floats(old, object)), "\(object)")
        }
    }

    @Test func evaluationRunsAreTheOldOnes() throws {
        let dir = try Support.tempDir().appendingPathComponent("eval")
        let r = try Support.mulo(["evaluate-on-width", "--checkpoint", Self.fixture("theta-after-4.h5"), "--baseline", "muadam",
                                  "--no-tune", "--lr", "0.01", "--template", "mumlp-w{W}-d2_synthetic-6x6x1", "--widths", "8", "16",
                                  "--steps", "6", "--seeds", "1", "--batch", "16", "--test-interval", "3", "--test-examples", "64",
                                  "--out", dir.path])
        #expect(r.status == 0, "\(r.stderr)")
        let oldResults = Self.fixture("eval-results.h5"), newResults = dir.appendingPathComponent("results.h5").path
        for key in ["lo-theta-after-4", "muadam"] {
            for w in [8, 16] {
                for series in ["train_loss", "test_loss", "test_accuracy"] {
                    let object = "runs/\(key)/w\(w)/s0/\(series)"
                    #expect(try agree(floats(newResults, object), floats(oldResults, object)), "\(object)")
                }
                let run = "\(key)_w\(w)_s0.h5"
                #expect(try agree(floats(dir.appendingPathComponent("runs/\(run)").path, "curves/train_loss"),
                                  floats(Self.fixture("eval-runs/\(run)"), "curves/train_loss")), "\(run)")
            }
        }
    }
}
