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
            let path = file ?? ReferenceChecker.defaultGoldenPath(repoRoot: RepositoryPaths.root)
            print("checking against \(path)")
            let checks = try ReferenceChecker.checkAll(path: path)
            checks.forEach { print($0.line) }
            let failed = checks.filter { !$0.passed }.count
            print("\(checks.count - failed) passed, \(failed) failed")
            if failed > 0 { throw ExitCode.failure }
        }
    }
}
