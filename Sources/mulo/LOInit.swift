import ArgumentParser
import MuLO

struct LOInit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lo-init",
        abstract: "Write a freshly initialised learned optimizer θ (small_fc_lopt: METHOD §2.6; VeLO: VELO §4.1) to an HDF5 file.")

    @Option(help: "Architecture: small_fc_lopt or velo (VeLO in sp, μVeLO in mu).")
    var architecture = SmallFCLOpt.name

    @Option(help: "Parametrization: mu (μLO step_mult 0.01; μVeLO) or sp (step_mult 0.001; VeLO).")
    var parametrization = "mu"

    @Option(help: "Seed of the initialisation.")
    var seed: UInt64 = 0

    @Option(help: "small_fc_lopt: hidden size of the MLP.")
    var hiddenSize = 32

    @Option(help: "VeLO: LSTM size H (default: the preset's, 16 for μVeLO and 512 for VeLO-4000).")
    var lstmHidden: Int?

    @Option(help: "VeLO: number of MLPs in the bank P (default: the preset's, 8 or 256).")
    var paramInits: Int?

    @Option(help: "Output file.")
    var out = "theta.h5"
    @OptionGroup var output: OutputFileOptions

    func validate() throws {
        guard [SmallFCLOpt.name, VeLO.name].contains(architecture) else { throw ValidationError("--architecture must be small_fc_lopt or velo") }
        guard Parametrization(rawValue: parametrization) != nil else { throw ValidationError("--parametrization must be mu or sp") }
        guard (1...4096).contains(hiddenSize), (lstmHidden ?? 1) >= 1, (lstmHidden ?? 1) <= 4096, (paramInits ?? 1) >= 1,
              (paramInits ?? 1) <= 4096 else {
            throw ValidationError("--hidden-size, --lstm-hidden and --param-inits must lie in 1…4096")
        }
        try output.check(out)
    }

    func run() throws {
        try runReportingErrors {
            let p = Parametrization(rawValue: parametrization)!
            let metadata = ["origin": "mulo lo-init --architecture \(architecture) --seed \(seed)"]
            if architecture == VeLO.name {
                var config = p == .mup ? VeLOConfig.muVeLO : VeLOConfig.velo4000
                config.lstmHidden = lstmHidden ?? config.lstmHidden
                config.paramInits = paramInits ?? config.paramInits
                let velo = VeLO(config)
                let theta = velo.initialTheta(key: RNGKey(seed: seed))
                try LOCheckpoint.save(theta, of: velo, to: out, metadata: metadata)
                print("wrote \(out) (\(velo.displayName), H \(config.lstmHidden), P \(config.paramInits): \(theta.count) meta-parameters)")
            } else {
                let config = LOConfig(parametrization: p, hiddenSize: hiddenSize)
                let theta = LOTheta.initial(key: RNGKey(seed: seed), hidden: hiddenSize)
                try LOCheckpoint.save(theta, config: config, to: out, metadata: metadata)
                print("wrote \(out) (\(theta.count) meta-parameters, \(parametrization))")
            }
        }
    }
}
