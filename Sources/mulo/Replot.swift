import ArgumentParser
import Foundation
import MuLO

struct Replot: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Redraw an evaluation's tables and plots from its results.h5 (no training; run files not needed).")

    @Argument(help: "Evaluation directory holding results.h5 (e.g. results/mlp-width).") var directory: String

    func run() throws {
        try runReportingErrors {
            let report = try EvaluationReport.stored((directory as NSString).appendingPathComponent("results.h5"))
            try report.writeAll(in: directory, title: report.title)
            print(report.table)
            print("\nrewrote \(directory)/" + report.fileNames.joined(separator: ", "))
        }
    }
}
