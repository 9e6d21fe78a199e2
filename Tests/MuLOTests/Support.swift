import Foundation
import MuLO
import Testing

/// Paths and helpers shared by the suites.
enum Support {
    static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var goldenPath: String { ReferenceChecker.defaultGoldenPath(repoRoot: repoRoot.path) }

    /// `body` with the elementwise kernels on `workers` threads, restored afterwards (the suites
    /// that check results do not depend on the thread count).
    static func withWorkers<T>(_ workers: Int, _ body: () throws -> T) rethrows -> T {
        let saved = Parallel.workers
        Parallel.workers = workers
        defer { Parallel.workers = saved }
        return try body()
    }

    /// A fresh empty directory for one test.
    static func tempDir(_ label: String = #function) throws -> URL {
        let safe = label.filter { $0.isLetter || $0.isNumber }
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("mulo-tests-\(safe)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// `dir/cifar10-2x2x3.h5`: `count` images whose bytes count up (mod 256), labels i mod 10.
    static func writeCIFAR10(in dir: URL, count n: Int) throws {
        let f = try HDF5File.create(dir.appendingPathComponent("cifar10-2x2x3.h5").path)
        try f.write("images", shape: [n, 2, 2, 3], (0..<(n * 12)).map { UInt8($0 % 256) })
        try f.write("labels", shape: [n], (0..<n).map { Int64($0 % 10) })
        try f.commit()
    }

    static var fashionMNISTAvailable: Bool {
        FileManager.default.fileExists(atPath: DatasetLoader.fashionMNISTDefaultDir + "/train-images-idx3-ubyte.gz")
    }

    /// Open MPI's launcher (installed by scripts/install-deps.sh).
    static let mpirun: URL? = ["/usr/bin/mpirun", "/usr/local/bin/mpirun"].map(URL.init(fileURLWithPath:))
        .first { FileManager.default.isExecutableFile(atPath: $0.path) }

    /// The `mulo` executable built next to this test bundle.
    static var muloExecutable: URL {
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("mulo")
        if FileManager.default.isExecutableFile(atPath: besideTests.path) { return besideTests }
        return repoRoot.appendingPathComponent(".build/release/mulo")
    }

    struct RunResult {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// Runs an executable to completion and captures its output; past `timeout` seconds it is
    /// terminated, so a hang fails the test instead of stalling the suite.
    static func run(_ executable: URL, _ args: [String], cwd: URL? = nil,
                    env: [String: String] = [:], timeout: TimeInterval? = nil) throws -> RunResult {
        let p = Process()
        p.executableURL = executable
        p.arguments = args
        if let cwd { p.currentDirectoryURL = cwd }
        p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        if let timeout {
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { [p] in if p.isRunning { p.terminate() } }
        }
        // Read before waiting so a full pipe cannot block the child.
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return RunResult(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                         stderr: String(decoding: e, as: UTF8.self))
    }

    static func mulo(_ args: [String], cwd: URL? = nil, env: [String: String] = [:]) throws -> RunResult {
        try run(muloExecutable, args, cwd: cwd, env: env)
    }

    /// The steps of the training-loss lines of a live-metrics file, in file order (a line that
    /// does not parse is an error).
    static func trainingLossSteps(_ jsonl: URL) throws -> [Int] {
        try String(contentsOf: jsonl, encoding: .utf8).split(separator: "\n").compactMap { line in
            let o = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            return o["train_loss"] != nil ? o["step"] as? Int : nil
        }
    }

    /// A command that saves a partial run, done three ways: `args(whole)` to its end; `args(cut)`
    /// interrupted by `signal`; and `args(cut)` again. SIGKILL comes once its partial run (at
    /// `partial`) is saved at step `atLeast` or later; another signal once its live metrics (`log`)
    /// reach that step, so that only the signal makes it save. Returns the step the interrupted
    /// run was saved at, its exit status, and the last start's output.
    static func interruptedRun(_ args: (String) -> [String], whole: String, cut: String, partial: String, atLeast: Int,
                               signal: Int32 = SIGKILL, log: String? = nil) throws -> (savedAt: Int, status: Int32, resumed: RunResult) {
        let first = try mulo(args(whole))
        #expect(first.status == 0, "\(first.stderr)")
        func saved() -> Int { (try? HDF5File.open(partial).attributeInt("next_step")) ?? 0 }
        let status = try signalMulo(args(cut), signal, when: { log.map { loggedStep($0) >= atLeast } ?? (saved() >= atLeast) })
        return (saved(), status, try mulo(args(cut)))
    }

    /// Starts `mulo args`, sends `signal` once `ready()` holds (or it ended, or 120 s passed) and
    /// returns its exit status (a shell's 128 + signal for one it died of).
    static func signalMulo(_ args: [String], _ signal: Int32, when ready: () -> Bool) throws -> Int32 {
        let p = Process()
        (p.executableURL, p.arguments) = (muloExecutable, args)
        (p.standardOutput, p.standardError) = (FileHandle.nullDevice, FileHandle.nullDevice)
        try p.run()
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        let deadline = Date().addingTimeInterval(120)
        while !ready() && p.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        kill(p.processIdentifier, signal)
        p.waitUntilExit()
        return p.terminationReason == .uncaughtSignal ? 128 + p.terminationStatus : p.terminationStatus
    }

    /// The last step with a training loss in a live-metrics file being written (-1 before any; a
    /// line cut short by the writer is skipped).
    static func loggedStep(_ jsonl: String) -> Int {
        guard let text = try? String(contentsOfFile: jsonl, encoding: .utf8) else { return -1 }
        return text.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]).flatMap { $0["train_loss"] != nil ? $0["step"] as? Int : nil }
        }.max() ?? -1
    }

    /// Population mean and standard deviation in float64.
    static func meanStd(_ xs: [Float]) -> (Double, Double) {
        let n = Double(xs.count)
        let mean = xs.reduce(0.0) { $0 + Double($1) } / n
        let variance = xs.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n
        return (mean, variance.squareRoot())
    }
}
