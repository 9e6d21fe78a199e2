import ArgumentParser
import Foundation
import MuLO

/// Baseline tuning options shared by `tune` and `evaluate-on-width`.
struct TuningOptions: ParsableArguments {
    @Option(help: "Width the baselines are tuned at.") var tuneWidth = 128
    @Option(help: "Steps of each tuning run.") var tuneSteps = 1000
    @Option(help: "Grid: small, medium, paper (METHOD §6.2 Tables 6 and 8), or a JSON file {lr, beta1, beta2, weight_decay, momentum}.")
    var grid = "small"
    @Option(help: "Directory of cached tuning results.") var tuningDir = "runs/tuning"

    func validate() throws {
        guard tuneWidth >= 1, tuneSteps >= 1 else { throw ValidationError("--tune-width and --tune-steps must be ≥ 1") }
    }
}

/// Parses `--baseline` names, failing before any work.
func parseBaselines(_ names: [String]) throws -> [HandDesigned] {
    try names.map { n in
        guard let b = HandDesigned(rawValue: n), b != .adam else {
            throw ValidationError("unknown baseline '\(n)'; choose adamw, muadam or sgd")
        }
        return b
    }
}
