import Foundation

/// What a report needs to know of an optimizer: a live one (`EvalOptimizer`) or one as a
/// results.h5 recorded it.
public protocol ReportedOptimizer: Sendable {
    var key: String { get }
    var label: String { get }
    var parametrization: Parametrization { get }
    var settingsDescription: [String: String] { get }
}

extension EvalOptimizer: ReportedOptimizer {}

public struct RecordedOptimizer: ReportedOptimizer {
    public let key: String, label: String, parametrization: Parametrization, settingsDescription: [String: String]

    public init(key: String, label: String, parametrization: Parametrization, settingsDescription: [String: String]) {
        (self.key, self.label, self.parametrization, self.settingsDescription) = (key, label, parametrization, settingsDescription)
    }
}

extension EvaluationReport {
    /// The report of a finished evaluation read back from its results.h5, to redraw its tables
    /// and plots (`mulo replot`) after the run files are gone.
    public static func stored(_ path: String) throws -> EvaluationReport {
        let f = try HDF5File.open(path)
        defer { try? f.close() }
        guard (try? f.attributeString("kind")) == "mulo-width-evaluation" else {
            throw TaskError("\(path) is not the results.h5 of `mulo evaluate-on-width`")
        }
        let depth = try f.attributeInt("depth")
        let crossed = f.hasAttribute("task_parametrization") ? try f.attributeString("task_parametrization") : nil
        let taskParametrization = try crossed.map { name in
            guard let p = Parametrization(rawValue: name) else { throw TaskError("\(path): task_parametrization '\(name)' is neither mu nor sp") }
            return p
        }
        let spec = EvaluationSpec(template: try TaskTemplate(try f.attributeString("template")), widths: try f.attributeInts("widths"),
                                  depth: depth > 0 ? depth : nil, steps: try f.attributeInt("steps"), seeds: try f.attributeInt("seeds"),
                                  batch: try f.attributeInt("batch"),
                                  taskParametrization: taskParametrization)
        guard !spec.widths.isEmpty, spec.seeds >= 1 else { throw TaskError("\(path) records no runs (widths \(spec.widths), \(spec.seeds) seeds)") }
        let settings = try JSONDecoder().decode([String: [String: String]].self, from: Data(try f.attributeString("optimizer_settings").utf8))
        var optimizers: [RecordedOptimizer] = [], runs: [EvaluationRun] = []
        for key in try f.children("summary") {
            let label = try f.attributeString("label", on: "summary/\(key)")
            for w in spec.widths {
                for s in 0..<spec.seeds {
                    let g = "runs/\(key)/w\(w)/s\(s)"
                    let task = try f.attributeString("task", on: g)
                    let diverged = try f.attributeInt("diverged_at", on: g)
                    var run = EvaluationRun(optimizer: key, width: w, seed: s, task: task,
                                            trainLoss: try f.read("\(g)/train_loss", as: Float.self).values,
                                            testStep: try f.read("\(g)/test_step", as: Int64.self).values,
                                            testLoss: try f.read("\(g)/test_loss", as: Float.self).values,
                                            testAccuracy: try f.read("\(g)/test_accuracy", as: Float.self).values,
                                            divergedAt: diverged >= 0 ? diverged : nil,
                                            lossBound: f.hasAttribute("loss_bound", on: g) ? Float(try f.attributeDouble("loss_bound", on: g)) : nil)
                    if f.hasAttribute("config", on: g) { run.config = try f.attributeString("config", on: g) }
                    if f.hasAttribute("wall_time_s", on: g) { run.wallTime = try f.attributeDouble("wall_time_s", on: g) }
                    if f.hasAttribute("cpu_time_s", on: g) { run.cpuTime = try f.attributeDouble("cpu_time_s", on: g) }
                    runs.append(run)
                }
            }
            // The optimizer's own parametrization, not its tasks' (a crossed finding ran it on the other
            // one's): a learned optimizer records it in its settings, a baseline's is its kind's.
            let parametrization = try settings[key]?["parametrization"].flatMap(Parametrization.init(rawValue:))
                ?? HandDesigned(rawValue: key)?.parametrization ?? TaskRegistry.parse(runs.last!.task).parametrization
            optimizers.append(RecordedOptimizer(key: key, label: label, parametrization: parametrization,
                                                settingsDescription: settings[key] ?? [:]))
        }
        let notes = try f.attributeStrings("notes").filter { !$0.isEmpty }
        // The rows' order as recorded; files from before it was: learned optimizers (μP before SP), then μAdam, AdamW, SGD.
        let recorded = f.hasAttribute("optimizers") ? try f.attributeStrings("optimizers") : []
        func rank(_ o: RecordedOptimizer) -> (Int, String) {
            if let i = recorded.firstIndex(of: o.key) { return (i, o.key) }
            let baselines = ["muadam", "adamw", "sgd"]
            return o.key.hasPrefix("lo-") ? (o.parametrization == .mup ? 0 : 1, o.key) : (2 + (baselines.firstIndex(of: o.key) ?? 3), o.key)
        }
        return EvaluationReport(spec: spec, optimizers: optimizers.sorted { rank($0) < rank($1) }, runs: runs, notes: notes)
    }
}
