import ArgumentParser
import MuLO

struct LOInit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lo-init",
        abstract: "Write a freshly initialised learned optimizer θ (METHOD §2.6) to an HDF5 file.")

    @Option(help: "Parametrization: mu (μLO, step_mult 0.01) or sp (step_mult 0.001).")
    var parametrization = "mu"

    @Option(help: "Seed of the initialisation.")
    var seed: UInt64 = 0

    @Option(help: "Hidden size of the MLP.")
    var hiddenSize = 32

    @Option(help: "Output file.")
    var out = "theta.h5"

    func validate() throws {
        guard Parametrization(rawValue: parametrization) != nil else { throw ValidationError("--parametrization must be mu or sp") }
        guard hiddenSize >= 1 else { throw ValidationError("--hidden-size must be positive") }
    }

    func run() throws {
        try runReportingErrors {
            let config = LOConfig(parametrization: Parametrization(rawValue: parametrization)!, hiddenSize: hiddenSize)
            let theta = LOTheta.initial(key: RNGKey(seed: seed), hidden: hiddenSize)
            try LOCheckpoint.save(theta, config: config, to: out, metadata: ["origin": "mulo lo-init --seed \(seed)"])
            print("wrote \(out) (\(theta.count) meta-parameters, \(parametrization))")
        }
    }
}
