import Foundation
import MuLO
import Testing

/// Meta-training over Open MPI ranks: results bit-identical to one process for any rank count.
@Suite("MPI meta-training", .serialized, .enabled(if: Support.mpirun != nil, "needs Open MPI's mpirun"))
struct MPITests {
    /// The command tests' tiny experiment with 4 pairs (8 units per outer step) and a checkpoint every step.
    static let config = MetaTrainCommandTests.config.replacingOccurrences(of: "pairs = 2", with: "pairs = 4")
        .replacingOccurrences(of: "outer_steps = 6", with: "outer_steps = 4")
        .replacingOccurrences(of: "interval = 2", with: "interval = 1").replacingOccurrences(of: "keep = 2", with: "keep = 3")

    func run(ranks: Int?, _ args: [String]) throws -> Support.RunResult {
        guard let ranks else { return try Support.mulo(["meta-train"] + args) }
        return try Support.run(Support.mpirun!, ["--allow-run-as-root", "--oversubscribe", "-np", "\(ranks)",
                                              Support.muloExecutable.path, "meta-train"] + args + ["--threads", "1"])
    }

    func thetaBits(_ dir: URL) throws -> [UInt32] {
        try LOCheckpoint.loadAny(dir.appendingPathComponent("theta.h5").path).theta.flat.map(\.bitPattern)
    }

    func metaLoss(_ dir: URL) throws -> [Float] {
        try HDF5File.open(try MetaCheckpoint.latest(in: dir.path)!).read("metrics/meta_loss", as: Float.self).values
    }

    @Test func anyRankCountGivesTheSameTheta() throws {
        let dir = try Support.tempDir()
        let cfg = dir.appendingPathComponent("c.toml").path
        try Self.config.write(toFile: cfg, atomically: true, encoding: .utf8)
        let one = dir.appendingPathComponent("one")
        #expect(try run(ranks: nil, [cfg, "--out", one.path, "--steps", "3"]).status == 0)
        // 8 units per outer step: 2 divides them, 3 does not, 9 is more ranks than units.
        for n in [2, 3, 9] {
            let d = dir.appendingPathComponent("np\(n)")
            let r = try run(ranks: n, [cfg, "--out", d.path, "--steps", "3"])
            #expect(r.status == 0, "np \(n): \(r.stderr)")
            #expect(try thetaBits(d) == thetaBits(one), "np \(n)")
            #expect(try metaLoss(d) == metaLoss(one))
            #expect(r.stdout.components(separatedBy: "learned optimizer θ").count == 2)  // rank 0 alone reports
        }
    }

    /// μVeLO's state (LSTM rows, loss buffer, counters) crosses ranks with the particles: θ is the same bits.
    @Test func veloOverRanksGivesTheSameTheta() throws {
        let dir = try Support.tempDir()
        let cfg = dir.appendingPathComponent("v.toml").path
        try Self.config.replacingOccurrences(of: "[estimator]", with: "[learned_optimizer]\narchitecture = \"velo\"\n[estimator]")
            .write(toFile: cfg, atomically: true, encoding: .utf8)
        let one = dir.appendingPathComponent("one"), two = dir.appendingPathComponent("two")
        #expect(try run(ranks: nil, [cfg, "--out", one.path, "--steps", "2"]).status == 0)
        let r = try run(ranks: 2, [cfg, "--out", two.path, "--steps", "2"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try thetaBits(two) == thetaBits(one))
        #expect(try LOCheckpoint.loadAny(two.appendingPathComponent("theta.h5").path).architectureName == "velo")
    }

    @Test func resumeWithADifferentRankCount() throws {
        let dir = try Support.tempDir()
        let cfg = dir.appendingPathComponent("c.toml").path
        try Self.config.write(toFile: cfg, atomically: true, encoding: .utf8)
        let one = dir.appendingPathComponent("one"), split = dir.appendingPathComponent("split")
        #expect(try run(ranks: nil, [cfg, "--out", one.path]).status == 0)
        #expect(try run(ranks: 2, [cfg, "--out", split.path, "--steps", "2"]).status == 0)
        let r = try run(ranks: 3, [cfg, "--out", split.path, "--resume"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try thetaBits(split) == thetaBits(one))
        #expect(try metaLoss(split) == metaLoss(one))
        // and back to one process
        #expect(try run(ranks: nil, [cfg, "--out", split.path, "--resume", "--steps", "5"]).status == 0)
        #expect(try run(ranks: nil, [cfg, "--out", one.path, "--resume", "--steps", "5"]).status == 0)
        #expect(try thetaBits(split) == thetaBits(one))
    }

    /// Killing one rank ends the job in bounded time with a non-zero exit; the last checkpoint
    /// stays intact and resumable.
    @Test func killingARankStopsTheJobAndKeepsTheCheckpoint() throws {
        let dir = try Support.tempDir()
        let cfg = dir.appendingPathComponent("c.toml").path
        try Self.config.replacingOccurrences(of: "outer_steps = 4", with: "outer_steps = 1000000")
            .write(toFile: cfg, atomically: true, encoding: .utf8)
        let run = dir.appendingPathComponent("run")
        let p = Process()
        p.executableURL = Support.mpirun!
        p.arguments = ["--allow-run-as-root", "--oversubscribe", "-np", "2", Support.muloExecutable.path, "meta-train", cfg,
                       "--out", run.path, "--threads", "1"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(60)
        while (try? MetaCheckpoint.latest(in: run.path)) == nil, Date() < deadline { Thread.sleep(forTimeInterval: 0.2) }
        Thread.sleep(forTimeInterval: 0.5)
        let children = try Support.run(URL(fileURLWithPath: "/usr/bin/pgrep"), ["-P", "\(p.processIdentifier)", "mulo"])
        let pids = children.stdout.split(separator: "\n").compactMap { Int32($0) }
        #expect(pids.count == 2, "ranks: \(children.stdout)")
        kill(pids.last!, SIGKILL)
        let stopBy = Date().addingTimeInterval(30)
        while p.isRunning, Date() < stopBy { Thread.sleep(forTimeInterval: 0.1) }
        let stopped = !p.isRunning
        if !stopped { p.terminate() }
        #expect(stopped, "the job did not stop within 30 s of a rank being killed")
        p.waitUntilExit()
        #expect(p.terminationStatus != 0)
        let latest = try #require(try MetaCheckpoint.latest(in: run.path))
        let step = try HDF5File.open(latest).attributeInt("outer_step")
        let resumed = try Support.mulo(["meta-train", cfg, "--out", run.path, "--resume", "--steps", "\(step + 1)"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
    }

    /// A rank that fails with an error (here: its --data-dir lacks the dataset) ends the whole job
    /// promptly, rather than leaving the other ranks waiting in a collective, and says why.
    @Test func aRankFailingWithAnErrorEndsTheJob() throws {
        let dir = try Support.tempDir()
        let data = dir.appendingPathComponent("data"), empty = dir.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try Support.writeCIFAR10(in: data, count: 200)
        let cfg = dir.appendingPathComponent("c.toml").path
        try Self.config.replacingOccurrences(of: "synthetic-6x6x1", with: "cifar10-2x2x3").write(toFile: cfg, atomically: true, encoding: .utf8)
        let run = dir.appendingPathComponent("run").path
        func rank(_ dataDir: URL) -> [String] {
            ["-np", "1", Support.muloExecutable.path, "meta-train", cfg, "--out", run, "--threads", "1", "--data-dir", dataDir.path]
        }
        // One rank alone with the data works, so the failure below is the other rank's.
        #expect(try Support.mulo(["meta-train", cfg, "--out", dir.appendingPathComponent("alone").path, "--steps", "1",
                                  "--data-dir", data.path]).status == 0)
        let start = Date()
        let r = try Support.run(Support.mpirun!, ["--allow-run-as-root", "--oversubscribe"] + rank(data) + [":"] + rank(empty),
                                timeout: 60)
        #expect(r.status != 0)
        #expect(Date().timeIntervalSince(start) < 30)
        #expect(r.stderr.contains("expected it at \(empty.path)/cifar10-2x2x3.h5") && r.stderr.contains("rank 1: stopping the MPI job"),
                "\(r.stderr)")
        #expect(((try? MetaCheckpoint.latest(in: run)) ?? nil) == nil)
    }
}
