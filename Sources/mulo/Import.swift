import ArgumentParser
import Foundation
import MuLO

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import a PyLO-layout directory (small_fc_lopt: config.json + model.safetensors; VeLO: VeLO_RNN/, VeLO_MLP/ + mulo_velo.json) as a θ file.",
        discussion: "small_fc_lopt's decay offsets come from mulo_lo.json when present, else the shipped μLO defaults (METHOD §2.1).")

    @Argument(help: "A PyLO-layout directory (as `mulo export` writes): config.json + model.safetensors (small_fc_lopt) or VeLO_RNN/, VeLO_MLP/ + mulo_velo.json (VeLO).") var directory: String
    @Option(help: "Output θ file.") var out = "theta.h5"
    @OptionGroup var output: OutputFileOptions

    func validate() throws { try output.check(out) }

    func run() throws {
        try runReportingErrors {
            if FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent(VeLOExport.sidecarName)) {
                let (theta, velo) = try VeLOExport.importPyLO(directory)
                try LOCheckpoint.save(theta, of: velo, to: out, metadata: ["origin": "mulo import \(directory)"])
                print("imported \(directory) → \(out) (\(velo.displayName), H \(velo.config.lstmHidden), P \(velo.config.paramInits))")
                return
            }
            let (theta, config, decaysFrom) = try LOExport.importPyLO(directory)
            try LOCheckpoint.save(theta, config: config, to: out, metadata: ["origin": "mulo import \(directory)"])
            print("imported \(directory) → \(out) (\(config.parametrization.rawValue); decays \(decaysFrom.map { "from \($0)" } ?? "set to the shipped μLO defaults"))")
        }
    }
}
