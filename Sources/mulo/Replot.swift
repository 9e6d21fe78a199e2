import ArgumentParser
import Foundation
import MuLO

struct Replot: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Redraw an evaluation's tables and plots from its results.h5 (no training; run files not needed).")

    @Argument(help: "Evaluation directory holding results.h5 (e.g. results/mlp-width), or that results.h5.") var path: String

    func run() throws {
        try runReportingErrors {
            var isDirectory: ObjCBool = false
            let named = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
            guard !named || (path as NSString).lastPathComponent == "results.h5" else {
                throw TaskError("\(path): give an evaluation's directory or its results.h5")
            }
            let parent = (path as NSString).deletingLastPathComponent
            let directory = named ? (parent.isEmpty ? "." : parent) : path
            let report = try EvaluationReport.stored((directory as NSString).appendingPathComponent("results.h5"))
            try report.writeAll(in: directory, title: report.title)
            print(report.table)
            print("\nrewrote \(directory)/" + report.fileNames.joined(separator: ", "))
        }
    }
}
