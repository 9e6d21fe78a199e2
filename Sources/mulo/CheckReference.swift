import ArgumentParser
import Foundation
import MuLO

struct CheckReference: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-reference",
        abstract: "Verify this build's numerics against a golden reference file.",
        discussion: """
            FILE defaults to $MULO_GOLDEN, else every golden file in ../shared/golden/ beside the repository \
            (small_fc_lopt.h5, small_fc_lopt_nd.h5, transformer_tasks.h5).
            """)

    @Argument(help: "Golden HDF5 file in the format of shared/golden/small_fc_lopt.h5 or transformer_tasks.h5.")
    var file: String?

    func run() throws {
        try runReportingErrors {
            let paths = file.map { [$0] } ?? ReferenceChecker.defaultGoldenPaths(repoRoot: RepositoryPaths.root)
            var checks: [ReferenceCheck] = []
            for path in paths {
                print("checking against \(path)")
                checks += try ReferenceChecker.checkAll(path: path)
            }
            checks.forEach { print($0.line) }
            let failed = checks.filter { !$0.passed }.count
            print("\(checks.count - failed) passed, \(failed) failed")
            if failed > 0 { throw ExitCode.failure }
        }
    }
}
