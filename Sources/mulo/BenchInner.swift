import ArgumentParser
import Foundation
import MuLO

struct BenchInner: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inner",
        abstract: "One training step (forward, backward, Adam; the learned optimizer's step beside) of a task vs sgemm.")

    @Option(help: "Task template with {W}, e.g. mutransformer-w{W}-d3_austen-s64-bytes or muvit-w{W}-d3-p4_fashionmnist-28x28x1.")
    var template = InnerBench.defaultTemplate

    @Option(parsing: .upToNextOption, help: "Widths.")
    var widths: [Int] = [128, 512, 1024, 2048, 4096]

    @Option(help: "Batch size.")
    var batch = 128

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        guard !widths.isEmpty, widths.allSatisfy({ $0 > 0 }), batch > 0 else {
            throw ValidationError("widths and batch must be positive")
        }
        do { _ = try TaskTemplate(template) } catch { throw ValidationError("\(error)") }
    }

    func run() throws {
        runtime.apply()
        try runReportingErrors {
            let host = BenchHost.measure(threads: BLAS.threads)
            let rows = try InnerBench.run(template: template, widths: widths, batch: batch, sgemm: host.sgemm_gflops,
                                          dataDir: runtime.dataDir)
            if json {
                struct Out: Encodable { let host: BenchHost; let rows: [InnerBenchRow] }
                print(String(decoding: try JSONEncoder.sorted.encode(Out(host: host, rows: rows)), as: UTF8.self))
                return
            }
            print(host.description)
            print("\(template), batch \(batch); GFLOP/s of forward + backward as the task counts them (TRANSFORMERS §4.2)")
            print("  width      params   ms/step   GFLOP/s   of sgemm   Adam share   LO ms/step   LO share")
            for r in rows {
                print(String(format: "%7d  %10d  %8.3f  %8.1f  %8.1f%%  %9.1f%%  %11.3f  %8.1f%%", r.width, r.params, r.msPerStep,
                             r.gflops, 100 * r.fractionOfSgemm, 100 * r.optimizerShare, r.msPerLOStep, 100 * r.loShare))
            }
        }
    }
}
