import ArgumentParser
import Foundation
import MuLO

struct CoordCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coord-check",
        abstract: "μP coordinate check: how much each layer's pre-activations move, per width (METHOD §6.3).")

    @OptionGroup var optimizerOptions: OptimizerOptions
    @Option(help: "Task template with {W}.") var template = "mumlp-w{W}-d3_fashionmnist-28x28x1"
    @Option(parsing: .upToNextOption, help: "Widths.") var widths: [Int] = [64, 128, 256, 512, 1024, 2048, 4096]
    @Option(help: "Hidden layers (default: the template's).") var depth: Int?
    @Option(help: "Training steps.") var steps = 500
    @Option(parsing: .upToNextOption, help: "Steps at which to measure (default 1, 10, 100, and the last).") var logSteps: [Int] = []
    @Option(help: "Batch size.") var batch = 128
    @Option(help: "Seed.") var seed: UInt64 = 0
    @Option(help: "Output directory.") var out = "runs/coord-check"
    @OptionGroup var runtime: RuntimeOptions

    var measuredSteps: [Int] { logSteps.isEmpty ? Array(Set([1, 10, 100, steps].filter { $0 <= steps })).sorted() : logSteps.sorted() }

    func validate() throws {
        guard !widths.isEmpty, widths.allSatisfy({ $0 >= 1 }), steps >= 1, batch >= 1 else {
            throw ValidationError("widths, --steps and --batch must be ≥ 1")
        }
        if let w = widths.firstRepeated { throw ValidationError("--widths lists \(w) twice") }
        guard measuredSteps.allSatisfy({ (1...steps).contains($0) }) else { throw ValidationError("--log-steps must lie in 1…steps") }
        do { _ = try TaskTemplate(template) } catch { throw ValidationError("\(error)") }
    }

    func run() throws {
        runtime.apply()
        try runReportingErrors {
            // muadam at η 0.01 unless told otherwise: the μP check that should come out flat.
            let choice = try optimizerOptions.choice(defaultOptimizer: "muadam", defaultLR: 0.01, steps: steps)
            let (parametrization, label) = (choice.parametrization, choice.label)
            let make = { choice.make(totalSteps: steps) }
            let result = try CoordinateCheck.run(template: try TaskTemplate(template), widths: widths.sorted(), depth: depth,
                                                 parametrization: parametrization, optimizer: make, steps: steps,
                                                 logSteps: measuredSteps, batch: batch, seed: seed, dataDir: runtime.dataDir, showProgress: true)
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            print("coordinate check, \(label): std over probe coordinates of (pre-activation_t − pre-activation_0)")
            print(result.table)
            try result.write(to: (out as NSString).appendingPathComponent("coord_check.h5"), label: label)
            try AtomicFile.write(result.plot(title: "coordinate check: \(label)"), to: (out as NSString).appendingPathComponent("coord_check.svg"))
            print("wrote \(out)/coord_check.h5, coord_check.svg")
        }
    }
}
