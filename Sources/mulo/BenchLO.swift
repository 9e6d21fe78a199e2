import ArgumentParser
import Foundation
import MuLO

struct BenchLO: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lo",
        abstract: "The learned-optimizer step vs an Adam step on the same tensors, and vs sgemm.")

    @Option(parsing: .upToNextOption, help: "Total parameters per measurement.")
    var params: [Int] = [100_000, 1_000_000, 10_000_000]

    @Flag(help: "Time the reference path instead of the fast one (slow).")
    var reference = false

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        guard !params.isEmpty, params.allSatisfy({ $0 >= 1000 }) else { throw ValidationError("--params must be ≥ 1000") }
    }

    func run() throws {
        runtime.apply()
        let sgemm = Timing.sgemmGFLOPs()
        let rows = params.map { LOBench.run(params: $0, sgemm: sgemm, implementation: reference ? .reference : .fast) }
        if json {
            print(String(decoding: try JSONEncoder.sorted.encode(rows), as: UTF8.self))
            return
        }
        print(String(format: "sgemm 2048³: %.1f GFLOP/s with %d threads; compute bound at 3.2 kFLOP/param: %.1f ns/param",
                     sgemm, BLAS.threads, LOBench.flopsPerParam / sgemm))
        print("     params  width   LO ns/param  Adam ns/param  LO/Adam   LO GFLOP/s  of sgemm")
        for r in rows {
            print(String(format: "%11d  %5d  %12.2f  %13.3f  %7.1f  %11.1f  %7.1f%%", r.params, r.width, r.lo_ns_per_param,
                         r.adam_ns_per_param, r.lo_over_adam, r.lo_effective_gflops, 100 * r.lo_effective_gflops / sgemm))
        }
    }
}
