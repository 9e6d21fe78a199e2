import ArgumentParser
import Foundation
import MuLO

struct BenchLO: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lo",
        abstract: "The learned-optimizer step vs its compute and memory bounds and an Adam step, same process.")

    @Option(parsing: .upToNextOption, help: "Total parameters per measurement.")
    var params: [Int] = [100_000, 1_000_000, 10_000_000]

    @Option(help: "Learned optimizer: small_fc_lopt, velo (VeLO-4000's size) or muvelo (μVeLO's).")
    var optimizer = LOBench.Subject.smallFC.rawValue

    @Flag(help: "Time the reference path instead of the fast one (slow).")
    var reference = false

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        guard !params.isEmpty, params.allSatisfy({ $0 >= 1000 }) else { throw ValidationError("--params must be ≥ 1000") }
        guard LOBench.Subject(rawValue: optimizer) != nil else { throw ValidationError("--optimizer must be small_fc_lopt, velo or muvelo") }
        // The parameters and their gradients at least, before the host probes take their seconds.
        do { for n in params { try MemoryBudget.check(8 * Double(n), "bench lo at \(n) parameters") } } catch {
            throw ValidationError("\(error)")
        }
    }

    func run() throws {
        runtime.apply()
        let host = BenchHost.measure(threads: Parallel.workers)
        let subject = LOBench.Subject(rawValue: optimizer)!
        let rows = params.map { LOBench.run(params: $0, host: host, implementation: reference ? .reference : .fast, subject: subject) }
        if json {
            struct Out: Encodable { let host: BenchHost; let rows: [LOBenchRow] }
            print(String(decoding: try JSONEncoder.sorted.encode(Out(host: host, rows: rows)), as: UTF8.self))
            return
        }
        print(host.description)
        print(String(format: "%@: compute bound at %.1f kFLOP/param: %.2f ns/param", optimizer, subject.flopsPerParam / 1000,
                     subject.flopsPerParam / host.sgemm_gflops))
        print("     params  width   LO ns/param  × compute bound  memory bound  × memory bound  schedule bound  × schedule bound  Adam ns/param  LO/Adam  of sgemm")
        for r in rows {
            print(String(format: "%11d  %5d  %12.2f  %14.2f×  %9.2f ns  %13.2f×  %11.2f ns  %15.2f×  %13.3f  %7.1f  %7.1f%%", r.params, r.width,
                         r.lo_ns_per_param, r.over_bound, r.memory_bound_ns_per_param, r.lo_ns_per_param / r.memory_bound_ns_per_param,
                         r.schedule_bound_ns_per_param, r.lo_ns_per_param / r.schedule_bound_ns_per_param,
                         r.adam_ns_per_param, r.lo_over_adam, 100 / r.over_bound))
        }
        print("schedule bound: the sweeps before the MLP sweep at the memory bandwidth, then the MLP sweep at the slower of its bounds (they cannot overlap)")
        // Whether a target of k× the memory bound is reachable at all on this CPU: only when the MLP
        // sweep's compute hides under its own traffic does the schedule bound approach the memory bound.
        let intensity = subject.flopsPerParam / LOBench.traffic(matrix: true).mlpSweep, balance = host.sgemm_gflops / host.memory_gbs
        if let last = rows.last {
            print(String(format: "MLP sweep: %.1f FLOP/B against this machine's %.1f (sgemm rate / bandwidth): %@-bound here; schedule bound = %.2f× the memory bound at %d params",
                         intensity, balance, intensity > balance ? "compute" : "memory",
                         last.schedule_bound_ns_per_param / last.memory_bound_ns_per_param, last.params))
        }
        if let us = rows.first?.per_tensor_us {
            print(String(format: "per-tensor part (mixing, LSTM, heads, interpolated MLP): %.1f µs per tensor", us))
        }
    }
}
