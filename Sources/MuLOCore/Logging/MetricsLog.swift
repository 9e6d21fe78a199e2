import Foundation

/// Live metrics of a long command, in its run directory, for watching it from outside:
/// - `metrics.jsonl`: one JSON object per logged step — `step`, `wall_time` (Unix seconds), `run`
///   when the directory holds several runs, then the scalars; non-finite values are `null`. Each
///   line is written with one `write` as it happens, so `tail -f` and line-by-line readers work.
/// - TensorBoard event files: the directory's own for a single run, `tensorboard/<run>/` for named
///   runs, so `tensorboard --logdir DIR` (or a parent) shows them while they go.
/// A resumed command passes `keep` to drop the lines it will redo (the file is rewritten
/// atomically first), and every new event file begins with a session START at its first step, so
/// both read as if the command had never been interrupted. Safe to call from several threads.
public final class MetricsLog: @unchecked Sendable {
    public let directory: String
    public var jsonlPath: String { (directory as NSString).appendingPathComponent("metrics.jsonl") }
    private let lock = NSLock()
    private let jsonl: FileHandle
    private var writers: [String: TensorBoardEventWriter] = [:]

    public init(directory: String, keep: (([String: Any]) -> Bool)? = nil) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = (directory as NSString).appendingPathComponent("metrics.jsonl")
        if let keep, let old = FileManager.default.contents(atPath: path) {
            // A line cut short by a killed process does not parse and goes too.
            let kept = old.split(separator: UInt8(ascii: "\n")).filter { line in
                guard let o = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else { return false }
                return keep(o)
            }
            try AtomicFile.write(Data(kept.map { Data($0) + Data("\n".utf8) }.joined()), to: path)
        }
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        guard let h = FileHandle(forWritingAtPath: path) else { throw DataError("cannot open \(path) for appending") }
        try h.seekToEnd()
        jsonl = h
    }

    deinit { try? jsonl.close() }

    /// One step's scalars: a line of `metrics.jsonl` and one TensorBoard event (tags as given).
    public func record(step: Int, run: String? = nil, _ values: [(String, Float)]) throws {
        let now = Date().timeIntervalSince1970
        var fields = ["\"step\":\(step)", String(format: "\"wall_time\":%.3f", now)]
        if let run { fields.append("\"run\":\(Self.quote(run))") }
        // Float's description is the shortest text that reads back to the same float (valid JSON, e.g. 1e+30).
        fields += values.map { "\(Self.quote($0.0)):\($0.1.isFinite ? "\($0.1)" : "null")" }
        let line = Data(("{" + fields.joined(separator: ",") + "}\n").utf8)
        lock.lock()
        defer { lock.unlock() }
        try jsonl.write(contentsOf: line)
        let key = run ?? ""
        if writers[key] == nil {
            let dir = run.map { (directory as NSString).appendingPathComponent("tensorboard/\($0)") } ?? directory
            let w = try TensorBoardEventWriter(directory: dir)
            try w.sessionStart(step: step, wallTime: now)
            writers[key] = w
        }
        try writers[key]!.scalars(step: step, wallTime: now, values.map { (tag: $0.0, value: $0.1) })
    }

    /// Closes a named run's event file (its run is over; a later record starts a new file).
    public func finish(run: String) {
        lock.lock()
        defer { lock.unlock() }
        writers[run] = nil
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}
