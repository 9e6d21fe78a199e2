import Foundation

/// Progress for long commands: an in-place line (step, loss, rate, ETA) when stderr is a
/// terminal, plain log lines at a modest rate otherwise (CI logs, files). Safe to call from
/// several worker threads.
public final class Progress: @unchecked Sendable {
    private let lock = NSLock()
    private let total: Int
    private let label: String
    private let start = Date()
    private let isTTY: Bool
    private var lastPrint = Date.distantPast
    private let logEvery: TimeInterval
    private let enabled: Bool
    private var unitsDone = 0, workDone = 0.0   // unitDone's tallies
    private var resumedAt = 0                    // units done before this process: not in the rate

    public init(total: Int, label: String, enabled: Bool = true, logEvery: TimeInterval = 10) {
        self.total = total
        self.label = label
        self.isTTY = isatty(STDERR_FILENO) != 0
        self.logEvery = logEvery
        self.enabled = enabled
    }

    /// Reports `done` of `total` units; `fields` are shown as `key value` pairs.
    public func update(_ done: Int, _ fields: [(String, String)] = [], unit: String = "steps") {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        show(done, fields, unit: unit, fractionDone: nil)
    }

    /// The work resumes with `done` units already done (a run continued from its saved step):
    /// the rate and ETA count only what this process does.
    public func resume(at done: Int) {
        lock.lock()
        defer { lock.unlock() }
        resumedAt = done
    }

    /// One more unit finished, which cost `work` of `totalWork` (any measure proportional to
    /// compute). For units of unequal cost run biggest first, as an evaluation runs its widest
    /// runs first: the ETA extrapolates the finished share of the work, not of the count, which
    /// would put hours of small runs at the price of the big ones. Safe from several threads.
    public func unitDone(work: Double, of totalWork: Double, _ fields: [(String, String)] = [], unit: String) {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        unitsDone += 1
        workDone += work
        show(unitsDone, fields, unit: unit, fractionDone: totalWork > 0 ? min(1, workDone / totalWork) : nil)
    }

    /// Prints the line if it is due (the caller holds the lock).
    private func show(_ done: Int, _ fields: [(String, String)], unit: String, fractionDone: Double?) {
        let now = Date()
        let finished = done >= total
        guard finished || now.timeIntervalSince(lastPrint) >= (isTTY ? 0.1 : logEvery) else { return }
        lastPrint = now
        let elapsed = now.timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(done - resumedAt) / elapsed : 0
        let eta = Self.eta(elapsed: elapsed, done: done - resumedAt, total: total - resumedAt, fractionDone: fractionDone)
        var parts = ["\(label) \(done)/\(total)"]
        parts += fields.map { "\($0.0) \($0.1)" }
        parts.append(String(format: "%.1f %@/s", rate, unit))
        parts.append(finished ? "done in \(Self.duration(elapsed))" : "ETA \(Self.duration(eta))")
        let line = parts.joined(separator: "  ")
        if isTTY {
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + line + (finished ? "\n" : "")).utf8))
        } else {
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }

    /// A message that does not disturb the progress line.
    public func log(_ message: String) {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        FileHandle.standardError.write(Data(((isTTY ? "\r\u{1B}[K" : "") + message + "\n").utf8))
    }

    /// Seconds left: the elapsed time scaled by what is left of the work — the finished share
    /// `fractionDone` when given, else the count `done` of `total`; 0 before anything finished.
    public static func eta(elapsed: Double, done: Int, total: Int, fractionDone: Double? = nil) -> Double {
        let f = fractionDone ?? (total > 0 ? Double(done) / Double(total) : 1)
        return f > 0 ? elapsed * (1 - f) / f : 0
    }

    public static func duration(_ s: Double) -> String {
        let t = Int(s.rounded())
        return t >= 3600 ? String(format: "%dh%02dm", t / 3600, t / 60 % 60)
            : t >= 60 ? String(format: "%dm%02ds", t / 60, t % 60) : String(format: "%.1fs", s)
    }
}
