import ArgumentParser
import Foundation

/// The output file of the commands that write one (`train`, `import`, `lo-init`): an existing
/// file — a θ of another run, say — is never replaced unless asked, and the directory must exist.
struct OutputFileOptions: ParsableArguments {
    @Flag(help: "Replace the output file if it already exists.")
    var overwrite = false

    /// Checked before any work, so a refused command creates nothing.
    func check(_ path: String) throws {
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        guard FileManager.default.fileExists(atPath: dir) else { throw ValidationError("output directory \(dir) does not exist") }
        try refuseExisting(path)
    }

    /// The existing-file rule alone (for a default path whose directory the command creates).
    func refuseExisting(_ path: String) throws {
        if !overwrite && FileManager.default.fileExists(atPath: path) {
            throw ValidationError("\(path) already exists; pass --overwrite to replace it or choose another --out")
        }
    }
}
