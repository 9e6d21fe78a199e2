import Foundation

/// The μLO paper's Table 1 for MuLO's own studies: every (study, width) is one task; on each task
/// the optimizers that ran it are ranked (1 = best, ties share the mean rank, a diverged seed
/// ranks the optimizer last there); an optimizer's entry is the mean of its ranks over a study,
/// over the studies of one model family, and over all of them. Ranked twice: by the final
/// training loss (the paper's measure) and by the test loss and accuracy at the end of training,
/// so a lower training loss that buys nothing on held-out data shows as a difference between them.
public struct RankTable {
    public struct Study {
        public let name: String
        public let report: EvaluationReport
        public var family: String { RankTable.family(of: report.spec.template.template) }

        public init(name: String, report: EvaluationReport) { (self.name, self.report) = (name, report) }
    }

    public enum Measure: String, CaseIterable, Sendable {
        case trainLoss = "final training loss", testLoss = "test loss", testAccuracy = "test accuracy"

        /// Lower is better.
        func value(_ c: EvaluationReport.Cell) -> Double {
            guard c.diverged == 0 else { return .infinity }
            switch self {
            case .trainLoss: return c.finalLoss.mean
            case .testLoss: return c.testLoss
            case .testAccuracy: return -c.testAccuracy
            }
        }
    }

    public let studies: [Study]

    /// The studies in the paper's order: families MLP, LM, ViT (then any other); within one, width
    /// studies, depth, horizon (by name), then the order given.
    public init(studies: [Study]) {
        func key(_ s: (offset: Int, element: Study)) -> [Int] {
            let families = ["MLP", "LM", "ViT"], kinds = ["width", "depth", "horizon"]
            return [families.firstIndex(of: s.element.family) ?? families.count,
                    kinds.firstIndex { s.element.name.contains($0) } ?? kinds.count, s.offset]
        }
        self.studies = studies.enumerated().sorted { key($0).lexicographicallyPrecedes(key($1)) }.map(\.element)
    }

    /// The model family of a task template: MLP, LM (decoder transformers) or ViT, whatever the parametrization.
    public static func family(of template: String) -> String {
        var model = String(template.prefix { $0 != "-" && $0 != "_" })
        if model.hasPrefix("mu") { model.removeFirst(2) }
        return ["mlp": "MLP", "transformer": "LM", "vit": "ViT"][model] ?? model
    }

    /// Optimizers in order of first appearance, with their labels.
    public var optimizers: [(key: String, label: String)] {
        var seen: [(key: String, label: String)] = []
        for s in studies {
            for o in s.report.optimizers where !seen.contains(where: { $0.key == o.key }) { seen.append((o.key, o.label)) }
        }
        return seen
    }

    /// Each optimizer's ranks on every task it ran, tagged with the study's index.
    public func ranks(by measure: Measure) -> [String: [(study: Int, rank: Double)]] {
        var out: [String: [(study: Int, rank: Double)]] = [:]
        for (i, s) in studies.enumerated() {
            for w in s.report.spec.widths {
                let cells = s.report.cells.filter { $0.width == w }
                for (c, r) in zip(cells, Statistics.ranks(cells.map(measure.value))) { out[c.optimizer, default: []].append((i, r)) }
            }
        }
        return out
    }

    static func mean(_ xs: [Double]) -> Double { xs.isEmpty ? .nan : xs.reduce(0, +) / Double(xs.count) }

    /// The model families of the studies, in their order.
    var families: [String] { studies.map(\.family).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } } }

    /// Column titles: one per study, one per family with more than one study, and "all".
    var columns: [(title: String, studies: Set<Int>)] {
        var cols = studies.enumerated().map { (title: $1.name, studies: Set([$0])) }
        for f in families {
            let members = Set(studies.indices.filter { studies[$0].family == f })
            if members.count > 1 { cols.append((title: "\(f) (all)", studies: members)) }
        }
        cols.append((title: "all", studies: Set(studies.indices)))
        return cols
    }

    /// The Markdown table of average ranks by `measure` (— where an optimizer ran none of a column's tasks).
    public func markdown(by measure: Measure) -> String {
        let ranks = ranks(by: measure), cols = columns
        let best = cols.map { col in
            optimizers.map { o in Self.mean((ranks[o.key] ?? []).filter { col.studies.contains($0.study) }.map(\.rank)) }
                .filter { !$0.isNaN }.min()
        }
        let header = ["optimizer"] + cols.map(\.title)
        let rows = optimizers.map { o in
            [o.label] + cols.enumerated().map { k, col in
                let r = Self.mean((ranks[o.key] ?? []).filter { col.studies.contains($0.study) }.map(\.rank))
                guard !r.isNaN else { return "—" }
                let s = String(format: "%.2f", r)
                return r == best[k] ? "**\(s)**" : s
            }
        }
        return EvaluationReport.markdown([header] + rows)
    }

    /// How many tasks each study contributes, for the caption.
    public var taskCounts: String {
        studies.map { "\($0.name) \($0.report.spec.widths.count)" }.joined(separator: ", ")
    }
}
