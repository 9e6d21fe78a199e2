import ArgumentParser
import Foundation
import MuLO

struct Replot: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Redraw an evaluation's tables and plots from its results.h5 (no training; run files not needed).")

    @Argument(help: "Evaluation directory holding results.h5 (e.g. results/width).") var directory: String

    func run() throws {
        try runReportingErrors {
            let report = try EvaluationReport.stored((directory as NSString).appendingPathComponent("results.h5"))
            let s = report.spec
            try report.writeAll(in: directory, title: "\(report.taskTitle), \(s.steps) steps, batch \(s.batch), \(s.seeds) seed\(s.seeds == 1 ? "" : "s")")
            print(report.table)
            print("\nrewrote \(directory)/results.h5, summary.csv, table.txt, table.md, loss_curves.svg\(s.widths.count > 1 ? ", final_loss_vs_width.svg" : "")")
        }
    }
}
