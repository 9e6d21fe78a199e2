import Foundation

/// Work that cannot fit in memory is refused before anything is allocated, with the sizes that
/// made it so: otherwise the allocator's failure ends the process with a stack dump, after the
/// data is loaded (a width-2^20 MLP needs 16 TB for its parameters and gradients alone, a billion
/// PES pairs 100 GB of bookkeeping). Callers pass a *lower bound* of what the work must hold, so
/// a refusal is certain and work that might fit always starts.
public enum MemoryBudget {
    /// This process's memory: the machine's, or a container's smaller cgroup limit (v2 or v1).
    public static let bytes: Double = {
        var limit = Double(ProcessInfo.processInfo.physicalMemory)
        for path in ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"] {
            // "max" (v2) or a huge page-rounded number (v1) mean no limit; both parse as no smaller value.
            if let text = try? String(contentsOfFile: path, encoding: .utf8),
               let v = Double(text.trimmingCharacters(in: .whitespacesAndNewlines)), v > 0 {
                limit = min(limit, v)
            }
        }
        return limit
    }()

    /// Throws when `need` bytes exceed the budget; `what` names the work and its sizes.
    public static func check(_ need: Double, _ what: @autoclosure () -> String) throws {
        guard need > bytes else { return }
        let gb = { String(format: $0 < 1e11 ? "%.3g GB" : "%.0f GB", $0 / 1e9) }
        throw ResourceError("\(what()) needs at least \(gb(need)) of memory; this machine has \(gb(bytes))")
    }
}
