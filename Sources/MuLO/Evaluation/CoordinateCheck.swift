import Foundation

/// The μP coordinate check (METHOD §6.3): train an MLP at several widths and, at logged steps,
/// measure per layer the standard deviation over all coordinates (probe examples × units) of
/// a_{l,t} − a_{l,0}, the change of its pre-activation on a fixed probe batch. Under μP the
/// curves are flat in width; under SP they grow with it.
public enum CoordinateCheck {
    public struct Result: Sendable {
        public let widths: [Int]
        public let logSteps: [Int]
        public let layers: Int
        /// [width][logged step][layer]
        public let std: [[[Double]]]

        /// std at the widest width over std at the narrowest, per logged step and layer.
        public func growth(step: Int, layer: Int) -> Double { std.last![step][layer] / std.first![step][layer] }
    }

    public static func run(template: TaskTemplate, widths: [Int], depth: Int?, parametrization: Parametrization,
                           optimizer make: () -> any Optimizer, steps: Int, logSteps: [Int], batch: Int,
                           probeSize: Int = 256, seed: UInt64 = 0, dataDir: String? = nil, showProgress: Bool = false) throws -> Result {
        let tasks = try widths.map { try template.name(width: $0, depth: depth, parametrization: parametrization).makeTask(dataDir: dataDir) }
        // The default check trains 7 widths up to 4096 for 500 steps each, a few minutes: the ETA
        // weighs each width's steps by their compute, as an evaluation's does, since the widest come last.
        let total = max(steps, logSteps.max() ?? 0)
        let stepWork = tasks.map { $0.trainingFlops(batchSize: batch) }
        let progress = Progress(total: tasks.count, label: "widths", enabled: showProgress,
                                totalWork: stepWork.reduce(0) { $0 + $1 * Double(total) }, unit: "widths")
        var all: [[[Double]]] = []
        for (i, task) in tasks.enumerated() {
            let inside = Progress(total: total, label: "w\(widths[i]): step", enabled: showProgress && isatty(STDERR_FILENO) == 0,
                                  logEvery: 60, feeding: progress, workPerStep: stepWork[i])
            all.append(try measure(task, optimizer: make(), steps: total, logSteps: logSteps, batch: batch,
                                   probeSize: probeSize, seed: seed, progress: inside))
            inside.finish()
            progress.unitDone([("last", "w\(widths[i])")])
        }
        return Result(widths: widths, logSteps: logSteps, layers: all.first?.first?.count ?? 0, std: all)
    }

    static func measure<O: Optimizer>(_ task: any Task, optimizer: O, steps total: Int, logSteps: [Int], batch: Int,
                                      probeSize: Int, seed: UInt64, progress: MuLOTraining.Progress? = nil) throws -> [[Double]] {
        let root = RNGKey(seed: seed)
        var params = task.initialize(key: root.split(0))
        var state = optimizer.initialState(for: params)
        var inner = InnerStep(task: task, batchSize: batch)
        var probe = Batch()
        let split = task.heldOutSplit
        try task.data.sequentialBatch(split, start: 0, size: min(probeSize, try task.data.count(split)), into: &probe)
        let start = task.activations(params, batch: probe)
        var out: [[Double]] = []
        for step in 1...total {
            try inner.sample(key: root.split(1).split(UInt64(step)))
            let loss = inner.lossAndGradient(at: params)
            inner.update(&params, with: optimizer, state: &state, context: StepContext(step: step - 1, totalSteps: total, loss: loss))
            progress?.update(step, [("loss", String(format: "%.4f", Double(loss)))])
            if logSteps.contains(step) {
                let now = task.activations(params, batch: probe)
                out.append(zip(now, start).map { a, a0 in Statistics.std(zip(a, a0).map { Double($0 - $1) }) })
            }
        }
        return out
    }
}

extension CoordinateCheck.Result {
    /// Rows: layer × logged step; columns: widths.
    public var table: String {
        func right(_ t: String, _ n: Int) -> String { String(repeating: " ", count: max(0, n - t.count)) + t }
        var lines = ["layer  step  " + widths.map { right("w\($0)", 11) }.joined(separator: " ") + "   widest/narrowest"]
        for l in 0..<layers {
            for (k, s) in logSteps.enumerated() {
                let cells = widths.indices.map { String(format: "%11.4g", std[$0][k][l]) }.joined(separator: " ")
                // 0/0 where no width moved the layer at all (e.g. behind a zero readout at step 1).
                let g = growth(step: k, layer: l)
                lines.append(String(format: "%5d  %4d  ", l, s) + cells + "   " + (g.isFinite ? String(format: "%8.2f×", g) : right("all 0", 9)))
            }
        }
        return lines.joined(separator: "\n")
    }

    public func write(to path: String, label: String) throws {
        let f = try HDF5File.create(path)
        try f.setAttribute("kind", "mulo-coord-check")
        try f.setAttribute("optimizer", label)
        try f.setAttribute("widths", widths)
        try f.setAttribute("log_steps", logSteps)
        try f.setAttribute("layers", layers)
        let flat = std.flatMap { $0.flatMap { $0 } }
        try f.write("std", shape: [widths.count, logSteps.count, layers], flat)
        try f.commit()
    }

    /// One panel per logged step: width (log₂) against the std (log₁₀), one curve per layer.
    public func plot(title: String) -> String {
        let panels = logSteps.indices.map { k in
            // A log axis cannot show exactly 0: such layers are named in the panel title instead.
            let zero = (0..<layers).filter { l in widths.indices.allSatisfy { std[$0][k][l] == 0 } }
            return Panel(title: "step \(logSteps[k])" + (zero.isEmpty ? "" : " (layer\(zero.count > 1 ? "s" : "") \(zero.map(String.init).joined(separator: ", ")): 0)"),
                  xLabel: "width (log₂)", yLabel: "std(Δ pre-activation)", xScale: .log2, yScale: .log10,
                  series: (0..<layers).map { l in
                      Series(label: l == layers - 1 ? "layer \(l) (logits)" : "layer \(l)", x: widths.map(Double.init),
                             y: widths.indices.map { std[$0][k][l] }, markers: true)
                  })
        }
        return SVGPlot.render(panels, columns: min(4, panels.count), panelWidth: 300, panelHeight: 250, title: title)
    }
}
