import ArgumentParser
import Foundation
import MuLO

struct Tune: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Grid-search a baseline's hyperparameters on one task (cached and reused by evaluate-on-width).")

    @Option(help: "Baseline: adamw, muadam or sgd.") var baseline: String
    @Option(help: "Task template with {W}.") var template = "mumlp-w{W}-d3_fashionmnist-28x28x1"
    @Option(help: "Batch size.") var batch = 128
    @OptionGroup var tuning: TuningOptions
    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        _ = try parseBaselines([baseline])
        do { _ = try TaskTemplate(template) } catch { throw ValidationError("\(error)") }
    }

    func run() throws {
        try runReportingErrors {
            let kind = try parseBaselines([baseline])[0]
            let t = try TaskTemplate(template).name(width: tuning.tuneWidth, depth: nil,
                                                    parametrization: kind.parametrization)
            let r = try Tuner.tune(kind, task: t, steps: tuning.tuneSteps, batch: batch, grid: tuning.grid,
                                   cacheDir: tuning.tuningDir, threads: runtime.threadCount,
                                   dataDir: runtime.dataDir) { print($0) }
            print(r.summary)
        }
    }
}
