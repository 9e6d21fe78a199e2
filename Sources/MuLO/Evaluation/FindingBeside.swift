import Foundation

/// A finding beside the ranked study it varies, so that what the variation changes is read off
/// one table: the crossed parametrization (`--task-parametrization`, same template) or the μViT
/// output-scale fix (`-corrected` in the template, TRANSFORMERS §7).
public enum FindingBeside {
    /// Template markers of a variation that a finding's task has and its study's does not.
    static let variations = ["-corrected"]

    /// The ranked study `finding` varies: the same template once its variation is taken off,
    /// the same depth, steps and batch, and a width in common; nil when none (e.g. other data).
    public static func study(variedBy finding: EvaluationReport, among studies: [RankTable.Study]) -> RankTable.Study? {
        let template = variations.reduce(finding.spec.template.template) { $0.replacingOccurrences(of: $1, with: "") }
        return studies.first { s in
            let spec = s.report.spec
            return spec.template.template == template && spec.depth == finding.spec.depth && spec.steps == finding.spec.steps
                && spec.batch == finding.spec.batch && spec.taskParametrization == nil && spec.widths.contains(where: finding.spec.widths.contains)
        }
    }

    /// Final training loss per optimizer of the finding (rows) and width both ran (columns):
    /// the finding's, then the study's.
    public static func markdown(_ finding: EvaluationReport, beside study: RankTable.Study) -> String {
        let widths = finding.spec.widths.filter(study.report.spec.widths.contains)
        func text(_ r: EvaluationReport, _ key: String, _ w: Int) -> String {
            guard let c = r.cells.first(where: { $0.optimizer == key && $0.width == w }) else { return "not run" }
            return c.diverged > 0 ? "diverged \(c.diverged)/\(c.seeds)" : EvaluationReport.meanSE(c)
        }
        let rows = finding.optimizers.map { o in
            [o.label] + widths.map { w in "\(text(finding, o.key, w)) · \(text(study.report, o.key, w))" }
        }
        return EvaluationReport.markdown([["optimizer"] + widths.map { "w\($0)" }] + rows)
    }
}
