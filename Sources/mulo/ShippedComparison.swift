import Foundation
import MuLO

/// After a meta-training run: the new θ and the learned optimizers shipped in Checkpoints/ train
/// the run's first task family at a width far beyond the meta-training widths, side by side — so
/// a first run ends with a measurement of width transfer rather than only a file.
struct ShippedComparison {
    static let shippedNames = ["mulo-m-fashionmnist", "lo-m-fashionmnist"]
    static let steps = 300

    let theta: String
    let config: MetaConfig
    let width: Int
    let directory: String
    let threads: Int
    let dataDir: String?
    /// A signal: the runs save where they are and `run` throws `EvaluationInterrupted`.
    let shouldStop: @Sendable () -> Bool

    /// The comparison's task, built (data loaded, memory checked) as `run` will build it.
    func check() throws {
        _ = try TaskTemplate(config.families[0].template).name(width: width, depth: nil, parametrization: config.parametrization)
            .makeTask(dataDir: dataDir)
    }

    func run() throws {
        let family = config.families[0]
        let template = try TaskTemplate(family.template)
        let shipped = Self.shippedNames
            .map { (RepositoryPaths.root as NSString).appendingPathComponent("Checkpoints/\($0).h5") }
            .filter { FileManager.default.fileExists(atPath: $0) }
        let optimizers = try ([theta] + shipped).map(EvalOptimizer.learned(path:))
        let spec = EvaluationSpec(template: template, widths: [width], steps: Self.steps, seeds: 1, batch: family.batchSize,
                                  testInterval: 0)
        print("\ncomparing at width \(width) (meta-trained at \(family.widths.map(String.init).joined(separator: ", "))), "
              + "\(Self.steps) steps: \(optimizers.map(\.label).joined(separator: ", "))")
        var evaluation = WidthEvaluation(spec: spec, optimizers: optimizers, directory: directory, dataDir: dataDir)
        evaluation.shouldStop = shouldStop
        let runs = try evaluation.run(threads: threads, showProgress: false)
        let report = EvaluationReport(spec: spec, optimizers: optimizers, runs: runs)
        try report.writeAll(in: directory, title: "\(report.taskTitle) at width \(width), \(Self.steps) steps")
        print(report.table)
        for r in runs {
            // A diverged run stops where it diverged and is never tested: say so rather than print "nan%".
            let accuracy = r.testAccuracy.last.flatMap { $0.isFinite ? String(format: "test accuracy %.1f%%", 100 * Double($0)) : nil }
                ?? (r.divergedAt.map { "diverged at step \($0)" } ?? "no test accuracy")
            print("  \(r.optimizer): \(accuracy) (\(r.task))")
        }
        print("wrote \(directory)/ (results.h5, summary.csv, loss_curves.svg); the shipped θ: "
              + (shipped.isEmpty ? "none found in Checkpoints/" : shipped.joined(separator: ", ")))
    }
}
