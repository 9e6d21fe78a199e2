import ArgumentParser
import Foundation
import MuLO

struct BenchMeta: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meta",
        abstract: "PES meta-training throughput (inner steps/s) and the LO-step vs forward/backward split.")

    @Option(help: "Task (μP for small_fc_lopt's μLO and μVeLO, SP for VeLO).") var task = "mumlp-w128-d3_fashionmnist-28x28x1"
    @Option(help: "Learned optimizer: small_fc_lopt, velo (VeLO-4000's size) or muvelo (μVeLO's).")
    var optimizer = LOBench.Subject.smallFC.rawValue
    @Option(help: "Antithetic pairs.") var pairs = 8
    @Option(help: "Truncation length K.") var truncation = 50
    @Option(help: "Inner batch size.") var batch = 128
    @Option(help: "Outer steps to time (after one warm-up step).") var outerSteps = 2
    @Flag(help: "Print JSON instead of text.") var json = false
    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        guard pairs >= 1, truncation >= 1, batch >= 1, outerSteps >= 1 else { throw ValidationError("sizes must be ≥ 1") }
        guard LOBench.Subject(rawValue: optimizer) != nil else { throw ValidationError("--optimizer must be small_fc_lopt, velo or muvelo") }
        do { _ = try TaskRegistry.parse(task) } catch { throw ValidationError("\(error)") }
    }

    func run() throws {
        try runReportingErrors {
            let n = runtime.threadCount
            BLAS.setThreads(n)
            let host = BenchHost.measure(threads: n)
            let r = try MetaBench.run(task: task, optimizer: LOBench.Subject(rawValue: optimizer)!, pairs: pairs, truncation: truncation, batch: batch,
                                      outerSteps: outerSteps, threads: n, dataDir: runtime.dataDir, sgemm: host.sgemm_gflops)
            if json {
                struct Out: Encodable { let host: BenchHost; let result: MetaBenchResult }
                print(String(decoding: try JSONEncoder.sorted.encode(Out(host: host, result: r)), as: UTF8.self))
                return
            }
            print(host.description)
            print("PES (\(optimizer)) on \(r.task): \(r.pairs) pairs, K \(r.truncation), batch \(r.batch), \(r.threads) threads")
            print(String(format: "  %.0f inner steps/s (%.2f s per outer step of %d inner steps)", r.inner_steps_per_s,
                         r.seconds_per_outer_step, 2 * r.pairs * r.truncation))
            print(String(format: "  one inner step, 1 thread: LO step %.2f ms, forward/backward %.2f ms → LO share %.0f%%",
                         r.lo_step_ms, r.forward_backward_ms, 100 * r.lo_share))
            print(String(format: "  effective %.1f GFLOP/s = %.0f%% of sgemm", r.effective_gflops,
                         100 * r.effective_gflops / r.sgemm_gflops))
        }
    }
}
