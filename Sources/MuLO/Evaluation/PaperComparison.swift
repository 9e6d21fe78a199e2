import Foundation

/// MuLO's studies beside what the μLO paper reports (METHOD §6.4): its Table 1 next to MuLO's
/// average ranks, and where each optimizer diverged next to the paper's divergence claims. Each
/// optimizer is matched to the paper's row by what it is, never by its file name: small_fc_lopt
/// in μP is μLO_M and in SP LO_M, VeLO likewise μVeLO_M and VeLO_M, the baselines by kind.
public struct PaperComparison {
    /// The paper's Table 1: average ranks over 5 tasks in 9 columns (1k, 3k, 5k steps × sizes L,
    /// XL, XXL), best first by their mean.
    static let table1: [(name: String, ranks: [Double])] = [
        ("μLO_M", [1.80, 2.00, 2.00, 1.80, 1.60, 1.20, 1.80, 2.20, 1.60]),
        ("μVeLO_M", [2.60, 1.60, 1.80, 2.40, 2.00, 2.40, 2.40, 1.40, 2.00]),
        ("μAdam", [3.40, 2.20, 2.20, 3.00, 2.40, 2.40, 3.20, 2.60, 2.60]),
        ("AdamW", [3.00, 3.60, 4.40, 2.80, 2.60, 4.00, 2.60, 2.40, 3.80]),
        ("LO_M (SP)", [5.60, 5.40, 5.60, 5.60, 4.80, 5.20, 5.00, 4.80, 5.20]),
        ("VeLO_M (SP)", [4.60, 4.00, 5.00, 5.40, 5.40, 5.80, 6.00, 5.40, 5.80]),
    ]

    /// The paper's row for `o`, nil for an optimizer the paper did not rank (SGD).
    public static func counterpart(_ o: any ReportedOptimizer) -> String? {
        switch o.key {
        case "muadam": return "μAdam"
        case "adamw": return "AdamW"
        default:
            guard o.key.hasPrefix("lo-") else { return nil }
            // θ files from before VeLO record no architecture: they are small_fc_lopt's.
            let velo = o.settingsDescription["architecture"] == VeLO.name
            let name = velo ? "VeLO_M" : "LO_M"
            return o.parametrization == .mup ? "μ\(name)" : "\(name) (SP)"
        }
    }

    public let table: RankTable

    public init(table: RankTable) { self.table = table }

    /// Where an average rank of MuLO's falls against the paper's 9 columns.
    static func verdict(_ here: Double, paper: [Double]) -> String {
        if here < paper.min()! { return "better than every column" }
        if here > paper.max()! { return "worse than every column" }
        return "within"
    }

    /// Each optimizer's mean rank by final training loss (the paper's measure): over every task
    /// and per model family; nil where it ran no task.
    func meanRanks() -> (all: [String: Double], families: [(family: String, ranks: [String: Double])]) {
        let ranks = table.ranks(by: .trainLoss)
        func means(_ keep: (Int) -> Bool) -> [String: Double] {
            ranks.compactMapValues { rs in
                let r = RankTable.mean(rs.filter { keep($0.study) }.map(\.rank))
                return r.isNaN ? nil : r
            }
        }
        return (means { _ in true }, table.families.map { f in (f, means { table.studies[$0].family == f }) })
    }

    /// The paper's Table 1 beside MuLO's ranks, then both orders of the six rows.
    public var markdown: String {
        let (all, families) = meanRanks()
        let matched = table.optimizers.compactMap { o -> (label: String, key: String, paper: (name: String, ranks: [Double]))? in
            let opt = table.studies.lazy.flatMap(\.report.optimizers).first { $0.key == o.key }
            guard let opt, let name = Self.counterpart(opt), let row = Self.table1.first(where: { $0.name == name }),
                  all[o.key] != nil else { return nil }
            return (o.label, o.key, row)
        }
        guard !matched.isEmpty else { return "" }
        let header = ["optimizer", "the paper's", "paper: mean (its 9 columns' range)", "here: all tasks"]
            + families.map { "here: \($0.family)" } + ["here against the paper's columns"]
        let rows = matched.map { m -> [String] in
            let mean = RankTable.mean(m.paper.ranks), here = all[m.key]!
            return [m.label, m.paper.name,
                    String(format: "%.2f (%.2f–%.2f)", mean, m.paper.ranks.min()!, m.paper.ranks.max()!),
                    String(format: "%.2f", here)]
                + families.map { f in f.ranks[m.key].map { String(format: "%.2f", $0) } ?? "—" }
                + [Self.verdict(here, paper: m.paper.ranks)]
        }
        var out = EvaluationReport.markdown([header] + rows) + "\n\n"
        // The orders, each best first; a pair the two order alike counts once.
        let paperOrder = matched.sorted { RankTable.mean($0.paper.ranks) < RankTable.mean($1.paper.ranks) }
        let hereOrder = matched.sorted { all[$0.key]! < all[$1.key]! }
        var agree = 0, pairs = 0
        for i in paperOrder.indices {
            for j in paperOrder.indices where j > i {
                pairs += 1
                if all[paperOrder[i].key]! < all[paperOrder[j].key]! { agree += 1 }
            }
        }
        guard pairs > 0 else { return out }
        out += "Order by mean rank, best first — the paper: " + paperOrder.map(\.paper.name).joined(separator: ", ")
        out += "; here: " + hereOrder.map(\.paper.name).joined(separator: ", ")
        out += " (\(agree) of \(pairs) pairs ordered as in the paper).\n"
        return out
    }

    /// Per study (rows) and optimizer (columns): where its runs diverged — the width (in studies
    /// of several), the seeds, and the median step at which they did; "—" where none did.
    public var divergenceMarkdown: String {
        let optimizers = table.optimizers
        let rows = table.studies.map { s -> [String] in
            [s.name] + optimizers.map { o in
                let runs = s.report.runs.filter { $0.optimizer == o.key }
                guard !runs.isEmpty else { return "not run" }
                let parts = s.report.spec.widths.compactMap { w -> String? in
                    let at = runs.filter { $0.width == w }
                    let steps = at.compactMap(\.divergedAt).map(Double.init)
                    guard !steps.isEmpty else { return nil }
                    let width = s.report.spec.widths.count > 1 ? "w\(w) " : ""
                    return width + "\(steps.count)/\(at.count) at step \(Int(Statistics.median(steps).rounded()))"
                }
                return parts.isEmpty ? "—" : parts.joined(separator: "; ")
            }
        }
        return EvaluationReport.markdown([["study"] + optimizers.map(\.label)] + rows)
    }
}
