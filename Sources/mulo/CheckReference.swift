import ArgumentParser
import Foundation
import MuLO

struct CheckReference: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-reference",
        abstract: "Verify this build's numerics against a golden reference file.",
        discussion: "FILE defaults to $MULO_GOLDEN, else ../shared/golden/small_fc_lopt.h5 beside the repository.")

    @Argument(help: "Golden HDF5 file in the format of shared/golden/small_fc_lopt.h5.")
    var file: String?

    func run() throws {
        try runReportingErrors {
            let path = file ?? ReferenceChecker.defaultGoldenPath(repoRoot: repositoryRoot())
            print("checking against \(path)")
            let checks = try ReferenceChecker.checkAll(path: path)
            checks.forEach { print($0.line) }
            let failed = checks.filter { !$0.passed }.count
            print("\(checks.count - failed) passed, \(failed) failed")
            if failed > 0 { throw ExitCode.failure }
        }
    }

    /// The repository holding this executable (.build/<config>/mulo), else the working directory.
    private func repositoryRoot() -> String {
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        for _ in 0..<5 {
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) { return dir.path }
            dir = dir.deletingLastPathComponent()
        }
        return FileManager.default.currentDirectoryPath
    }
}
