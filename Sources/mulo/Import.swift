import ArgumentParser
import Foundation
import MuLO

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import a PyLO-layout directory (config.json + model.safetensors) as a θ file.",
        discussion: "Decay offsets come from mulo_lo.json when present, else the shipped μLO defaults (METHOD §2.1).")

    @Argument(help: "Directory with config.json and model.safetensors.") var directory: String
    @Option(help: "Output θ file.") var out = "theta.h5"

    func run() throws {
        try runReportingErrors {
            let (theta, config, fromSidecar) = try LOExport.importPyLO(directory)
            try LOCheckpoint.save(theta, config: config, to: out, metadata: ["origin": "mulo import \(directory)"])
            print("imported \(directory) → \(out) (\(config.parametrization.rawValue); decays \(fromSidecar ? "from \(LOExport.sidecarName)" : "set to the shipped μLO defaults"))")
        }
    }
}
