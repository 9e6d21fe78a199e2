import Foundation

/// The host CPU as Linux reports it in /proc/cpuinfo.
public struct HostCPU: Sendable {
    public let model: String
    public let flags: Set<String>

    public static let current: HostCPU = {
        let text = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        return HostCPU(cpuinfo: text)
    }()

    /// Parses the first processor's entry: "model name" (x86) or "Hardware" (Arm), and "flags"
    /// (x86) or "Features" (Arm).
    public init(cpuinfo: String) {
        var model = "", flags = Set<String>()
        for line in cpuinfo.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let key = parts[0].trimmingCharacters(in: .whitespaces), value = parts[1].trimmingCharacters(in: .whitespaces)
            if model.isEmpty && (key == "model name" || key == "Hardware") { model = value }
            if flags.isEmpty && (key == "flags" || key == "Features") { flags = Set(value.split(separator: " ").map(String.init)) }
        }
        self.model = model.isEmpty ? "unknown CPU" : model
        self.flags = flags
    }

    /// The kernel variant this CPU runs best (the names of `mulo_kernel_isa`).
    public var bestISA: String {
        if flags.contains("avx512f") { return "avx512" }
        if flags.contains("avx2") && flags.contains("fma") { return "avx2" }
        if flags.contains("asimd") { return "neon" }
        if flags.contains("sse2") { return "sse2" }
        return "generic"
    }
}
