import ArgumentParser
import Foundation
import MuLO

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export a learned optimizer for PyLO/PyTorch (pylo), NumPy (npz), anything (json), or as a small θ file with the run's metrics (h5).")

    @Argument(help: "θ file or meta-training checkpoint.") var checkpoint: String
    @Option(help: "Format: pylo, npz, json or h5.") var format = "pylo"
    @Option(help: "Output directory (default: notebooks-export/exports/<name> in the repository, where the notebooks read it, from any working directory).") var out: String?
    @Flag(help: "Also write probe.h5: MLP inputs and MuLO's outputs, to check other implementations.") var withProbe = false

    func validate() throws {
        guard LOExport.Format(rawValue: format) != nil else { throw ValidationError("--format must be pylo, npz, json or h5") }
    }

    func run() throws {
        try runReportingErrors {
            let dir = out ?? (RepositoryPaths.root as NSString).appendingPathComponent("notebooks-export/exports/\(LOCheckpoint.displayName(checkpoint))")
            let lo = try LOCheckpoint.loadAny(checkpoint)
            if let velo = lo.architecture as? VeLO {
                guard !withProbe else { throw LOError("--with-probe is for small_fc_lopt exports") }
                let files = try VeLOExport.write(lo.theta, of: velo, format: LOExport.Format(rawValue: format)!, to: dir, source: checkpoint)
                print("exported \(checkpoint) (\(velo.displayName), \(lo.theta.count) meta-parameters) as \(format):")
                files.forEach { print("  \($0)") }
                return
            }
            let (theta, config) = try LOCheckpoint.load(checkpoint)
            var files = try LOExport.write(theta, config: config, format: LOExport.Format(rawValue: format)!, to: dir, source: checkpoint)
            if withProbe {
                let p = (dir as NSString).appendingPathComponent("probe.h5")
                try LOExport.writeProbe(theta, config: config, to: p)
                files.append(p)
            }
            print("exported \(checkpoint) (\(config.parametrization.rawValue), \(theta.count) meta-parameters) as \(format):")
            files.forEach { print("  \($0)") }
            if format == LOExport.Format.pylo.rawValue {
                print("\nWith PyTorch and PyLO (pip install mup; PyLO from github.com/Belilovsky-Lab/pylo), given your `model`:\n")
                print(LOExport.pyloSnippet(config, dir: dir))
            }
        }
    }
}
