import ArgumentParser
import Foundation
import MuLO

struct CoordCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coord-check",
        abstract: "μP coordinate check: how much each layer's pre-activations move, per width (METHOD §6.3).")

    @Option(help: "Optimizer: muadam (μP), adam (SP), or lo with --checkpoint.") var optimizer = "muadam"
    @Option(help: "Learned-optimizer θ file (with --optimizer lo).") var checkpoint: String?
    @Option(help: "Learning rate (muadam, adam).") var lr: Float = 0.01
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
        guard ["muadam", "adam", "lo"].contains(optimizer) else { throw ValidationError("--optimizer must be muadam, adam or lo") }
        guard (optimizer == "lo") == (checkpoint != nil) else { throw ValidationError("--optimizer lo goes with --checkpoint") }
        guard !widths.isEmpty, widths.allSatisfy({ $0 >= 1 }), steps >= 1, batch >= 1 else {
            throw ValidationError("widths, --steps and --batch must be ≥ 1")
        }
        guard measuredSteps.allSatisfy({ (1...steps).contains($0) }) else { throw ValidationError("--log-steps must lie in 1…steps") }
        do { _ = try TaskTemplate(template) } catch { throw ValidationError("\(error)") }
    }

    func run() throws {
        runtime.apply()
        try runReportingErrors {
            let make: () -> any Optimizer
            let parametrization: Parametrization
            let label: String
            if let checkpoint {
                let (theta, config) = try LOCheckpoint.load(checkpoint)
                (make, parametrization, label) = ({ LearnedOptimizer(theta: theta, config: config) }, config.parametrization,
                                                  "\(config.parametrization == .mup ? "μLO" : "SP LO") \(checkpoint)")
            } else if optimizer == "muadam" {
                (make, parametrization, label) = ({ Adam.muAdam(schedule: .constant(lr)) }, .mup, "μAdam η=\(lr)")
            } else {
                (make, parametrization, label) = ({ Adam(schedule: .constant(lr)) }, .standard, "SP Adam η=\(lr)")
            }
            let result = try CoordinateCheck.run(template: try TaskTemplate(template), widths: widths.sorted(), depth: depth,
                                                 parametrization: parametrization, optimizer: make, steps: steps,
                                                 logSteps: measuredSteps, batch: batch, seed: seed, dataDir: runtime.dataDir)
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            print("coordinate check, \(label): std over probe coordinates of (pre-activation_t − pre-activation_0)")
            print(result.table)
            try result.write(to: (out as NSString).appendingPathComponent("coord_check.h5"), label: label)
            try AtomicFile.write(result.plot(title: "coordinate check: \(label)"), to: (out as NSString).appendingPathComponent("coord_check.svg"))
            print("wrote \(out)/coord_check.h5, coord_check.svg")
        }
    }
}
