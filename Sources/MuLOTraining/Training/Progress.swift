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
    // The first count this process reported and when: rates and count ETAs start there, as the
    // time before it is one-time setup (data loading, the step-0 test pass, a resumed run's reload)
    // that made a run's first log line say 0.1 steps/s and an ETA of hours.
    private var clock: (since: Date, done: Int)?
    // A job of unequal units (an evaluation's runs): the work they have done so far, of `totalWork`,
    // and the fields of the last finished unit, shown again when only the work moves.
    private let totalWork: Double?
    private var unitsDone = 0, workDone = 0.0
    private var lastFields: [(String, String)] = []
    private let unit: String
    // A unit of such a job (one run): where its work goes, and how many of its steps have gone there.
    private let parent: Progress?
    private let workPerStep: Double
    private var forwarded = 0

    /// `totalWork` (any measure proportional to compute) makes the ETA extrapolate the share of
    /// it done rather than the count: its units, run biggest first as an evaluation runs its
    /// widest runs first, report their work step by step through progresses that `feed` this one.
    /// `unit` names the units in the rate. A progress that feeds `parent` adds `workPerStep` to
    /// it with each step it counts.
    public init(total: Int, label: String, enabled: Bool = true, logEvery: TimeInterval = 10, totalWork: Double? = nil,
                unit: String = "steps", feeding parent: Progress? = nil, workPerStep: Double = 0) {
        self.total = total
        self.label = label
        self.isTTY = isatty(STDERR_FILENO) != 0
        self.logEvery = logEvery
        self.enabled = enabled
        self.totalWork = totalWork
        self.unit = unit
        self.parent = parent
        self.workPerStep = workPerStep
    }

    /// Reports `done` of `total` units; `fields` are shown as `key value` pairs.
    public func update(_ done: Int, _ fields: [(String, String)] = []) {
        lock.lock()
        defer { lock.unlock() }
        forward(upTo: done)
        guard enabled else { return }
        show(done, fields, fractionDone: nil)
    }

    /// The work resumes with `done` units already done (a run continued from its saved step): the
    /// parent's work counts only what this process does (the rate does anyway, see `clock`).
    public func resume(at done: Int) {
        lock.lock()
        defer { lock.unlock() }
        forwarded = done
    }

    /// The unit ended (finished, or stopped early by divergence): the parent gets the rest of its work.
    public func finish() {
        lock.lock()
        defer { lock.unlock() }
        forward(upTo: total)
    }

    /// Work done by a unit in flight (see `init`). The in-place line on a terminal moves with it;
    /// a log gets a line only when a unit finishes. Safe from several threads.
    public func add(work: Double) {
        lock.lock()
        defer { lock.unlock() }
        workDone += work
        if enabled && isTTY { show(unitsDone, lastFields, fractionDone: fractionDone) }
    }

    /// One more unit finished (its work already added by its own progress). Safe from several threads.
    public func unitDone(_ fields: [(String, String)] = []) {
        lock.lock()
        defer { lock.unlock() }
        unitsDone += 1
        lastFields = fields
        guard enabled else { return }
        show(unitsDone, fields, fractionDone: fractionDone)
    }

    /// The share of `totalWork` done (nil without one).
    public var workFraction: Double? {
        lock.lock()
        defer { lock.unlock() }
        return fractionDone
    }

    private var fractionDone: Double? { totalWork.flatMap { $0 > 0 ? min(1, workDone / $0) : nil } }

    /// Hands the work of the steps up to `done` to the parent (the caller holds the lock; the
    /// parent's lock is only ever taken after a child's).
    private func forward(upTo done: Int) {
        guard let parent, done > forwarded else { return }
        parent.add(work: Double(done - forwarded) * workPerStep)
        forwarded = done
    }

    /// Prints the line if it is due (the caller holds the lock).
    private func show(_ done: Int, _ fields: [(String, String)], fractionDone: Double?) {
        let now = Date()
        let clock = self.clock ?? (now, done)
        self.clock = clock
        let finished = done >= total
        guard finished || now.timeIntervalSince(lastPrint) >= (isTTY ? 0.1 : logEvery) else { return }
        lastPrint = now
        let line = Self.line(label: label, done: done, total: total, fields: fields, unit: unit,
                             elapsed: now.timeIntervalSince(start), counted: done - clock.done,
                             countedIn: now.timeIntervalSince(clock.since), fractionDone: fractionDone)
        if isTTY {
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + line + (finished ? "\n" : "")).utf8))
        } else {
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }

    /// The progress line: `done`/`total`, the fields, then the rate of the `counted` units done in
    /// the last `countedIn` seconds and the ETA — by the finished share of the work where there is
    /// one (`fractionDone`, over all `elapsed`), else by that rate; neither before a unit is counted.
    public static func line(label: String, done: Int, total: Int, fields: [(String, String)], unit: String,
                            elapsed: Double, counted: Int, countedIn: Double, fractionDone: Double?) -> String {
        var parts = ["\(label) \(done)/\(total)"] + fields.map { "\($0.0) \($0.1)" }
        if counted > 0 && countedIn > 0 { parts.append(String(format: "%.1f %@/s", Double(counted) / countedIn, unit)) }
        if done >= total {
            parts.append("done in \(duration(elapsed))")
        } else if let fractionDone {
            if fractionDone > 0 { parts.append("ETA \(duration(eta(elapsed: elapsed, done: 0, total: 0, fractionDone: fractionDone)))") }
        } else if counted > 0 {
            parts.append("ETA \(duration(eta(elapsed: countedIn, done: counted, total: counted + total - done)))")
        }
        return parts.joined(separator: "  ")
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
