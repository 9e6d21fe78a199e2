import Foundation

extension WidthEvaluation {
    /// Writes the run file of every run of this evaluation that a finished study's results.h5
    /// already holds — same optimizer settings (θ's fingerprint for a learned optimizer), task
    /// (its name carries the parametrization), steps, batch, seed, loss bound (when recorded:
    /// files before it was used the same rule) and test schedule — so that adding an optimizer to
    /// a study whose run files are gone trains only the new runs. results.h5 does not record the
    /// number of test examples: adopted runs are taken to have used this evaluation's. Returns how
    /// many run files were written; runs already in `directory/runs` are left alone.
    public func adopt(_ stored: EvaluationReport) throws -> Int {
        guard stored.spec.steps == spec.steps, stored.spec.batch == spec.batch else { return 0 }
        try FileManager.default.createDirectory(atPath: (directory as NSString).appendingPathComponent("runs"),
                                                withIntermediateDirectories: true)
        var written = 0
        for (o, optimizer) in optimizers.enumerated() {
            guard let recorded = stored.optimizers.first(where: { $0.key == optimizer.key }),
                  Self.identifying(recorded.settingsDescription) == Self.identifying(optimizer.settingsDescription) else { continue }
            for (w, width) in spec.widths.enumerated() {
                let task = try spec.template.name(width: width, depth: spec.depth, parametrization: spec.parametrization(of: optimizer))
                    .makeTask(dataDir: dataDir)
                for seed in 0..<spec.seeds {
                    let unit = Unit(optimizer: o, width: w, seed: seed)
                    guard case .missing = try finishedRun(runPath(unit), matching: config(unit, task: task)),
                          let run = stored.runs.first(where: { $0.optimizer == optimizer.key && $0.width == width && $0.seed == seed }),
                          run.task == task.name, run.lossBound.map({ $0 == task.lossClipBound }) ?? true,
                          run.testStep.map(Int.init) == testSchedule(divergedAt: run.divergedAt) else { continue }
                    var result = TrainResult()
                    (result.trainLoss, result.testSteps, result.testLoss) = (run.trainLoss, run.testStep.map(Int.init), run.testLoss)
                    (result.testAccuracy, result.divergedAt, result.wallTime) = (run.testAccuracy, run.divergedAt, run.wallTime ?? .nan)
                    result.cpuTime = run.cpuTime
                    try result.write(to: runPath(unit), config: config(unit, task: task), task: task, includeParams: false)
                    written += 1
                }
            }
        }
        return written
    }

    /// The steps a run of this evaluation is tested at (`train`'s schedule): every test interval
    /// before the step it diverged at (inclusive), and the end if it did not diverge.
    func testSchedule(divergedAt: Int?) -> [Int] {
        let last = divergedAt ?? (spec.steps - 1)
        let periodic = spec.testInterval > 0 ? Array(stride(from: 0, through: last, by: spec.testInterval)) : []
        return periodic + (divergedAt == nil ? [spec.steps] : [])
    }
}
