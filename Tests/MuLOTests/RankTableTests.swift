import Foundation
import MuLO
import Testing

/// The Table-1 ranks (`RankTable`) against ranks worked out by hand, and the README's Results
/// block against what `mulo report` makes of the committed files.
@Suite("Rank table and results document")
struct RankTableTests {
    static func optimizer(_ key: String) -> RecordedOptimizer {
        RecordedOptimizer(key: key, label: key.uppercased(), parametrization: .mup, settingsDescription: [:])
    }

    /// One run whose final training loss is `train` (constant curve) and final test loss `test`; nil = diverged.
    static func run(_ key: String, width: Int, train: Float?, test: Float = 1) -> EvaluationRun {
        EvaluationRun(optimizer: key, width: width, seed: 0, task: "t", trainLoss: [Float](repeating: train ?? .nan, count: 20),
                      testStep: [20], testLoss: [test], testAccuracy: [0.5], divergedAt: train == nil ? 3 : nil, lossBound: nil)
    }

    static func study(_ name: String, _ template: String, _ widths: [Int], _ runs: [EvaluationRun]) throws -> RankTable.Study {
        let keys = runs.map(\.optimizer).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        let spec = EvaluationSpec(template: try TaskTemplate(template), widths: widths, steps: 20, seeds: 1, batch: 8)
        return RankTable.Study(name: name, report: EvaluationReport(spec: spec, optimizers: keys.map(optimizer), runs: runs))
    }

    /// MLP w8: a 0.1, b 0.2, c 0.3 → 1, 2, 3. MLP w16: a 0.3, b diverged, c 0.1 → 2, 3, 1.
    /// LM w8 (no c): a and b tie at 0.5 → 1.5 each. Means: MLP a 1.5, b 2.5, c 2; LM a 1.5, b 1.5;
    /// all a 4.5/3 = 1.50, b 6.5/3 = 2.17, c 4/2 = 2.00. By test loss (MLP w8 reversed, the rest equal):
    /// MLP w8 a 3, b 2, c 1; MLP w16 a 1.5, b 3 (diverged), c 1.5; LM 1.5, 1.5.
    func table() throws -> RankTable {
        let mlp = try Self.study("mlp-width", "mumlp-w{W}-d3_synthetic-8x8x1", [8, 16], [
            Self.run("a", width: 8, train: 0.1, test: 0.9), Self.run("b", width: 8, train: 0.2, test: 0.8),
            Self.run("c", width: 8, train: 0.3, test: 0.7), Self.run("a", width: 16, train: 0.3), Self.run("b", width: 16, train: nil),
            Self.run("c", width: 16, train: 0.1),
        ])
        let lm = try Self.study("lm-width", "mutransformer-w{W}-d3_austen-s64-bytes", [8], [
            Self.run("a", width: 8, train: 0.5), Self.run("b", width: 8, train: 0.5),
        ])
        // Given LM first: the table still orders the families MLP, LM, ViT.
        return RankTable(studies: [lm, mlp])
    }

    @Test func ranksMatchHandComputedOnes() throws {
        let t = try table()
        #expect(t.studies.map(\.name) == ["mlp-width", "lm-width"])
        #expect(t.studies.map(\.family) == ["MLP", "LM"])
        let lines = t.markdown(by: .trainLoss).split(separator: "\n").map(String.init)
        #expect(lines[0] == "| optimizer | mlp-width | lm-width | all |")
        #expect(lines[2] == "| A | **1.50** | **1.50** | **1.50** |")
        #expect(lines[3] == "| B | 2.50 | **1.50** | 2.17 |")
        #expect(lines[4] == "| C | 2.00 | — | 2.00 |")
        let test = t.markdown(by: .testLoss).split(separator: "\n").map(String.init)
        #expect(test[2] == "| A | 2.25 | **1.50** | 2.00 |")
        #expect(test[3] == "| B | 2.50 | **1.50** | 2.17 |")
        #expect(test[4] == "| C | **1.25** | — | **1.25** |")
    }

    @Test func familiesFollowTheModelWhateverTheParametrization() {
        #expect(RankTable.family(of: "mlp-w{W}-d3_x") == "MLP" && RankTable.family(of: "mumlp-w{W}-d3_x") == "MLP")
        #expect(RankTable.family(of: "transformer-w{W}-d3_austen-s64-bytes") == "LM")
        #expect(RankTable.family(of: "muvit-w{W}-d3-p7_fashionmnist-28x28x1") == "ViT")
    }

    /// Optimizers matched to the paper's rows by kind (not file name), and the comparison worked
    /// out by hand. One MLP study at width 8, final losses μLO 0.1, μVeLO 0.2, μAdam 0.3, SP LO
    /// diverged at steps 3 → ranks 1, 2, 3, 4; AdamW did not run. Paper means (METHOD §6.4): μLO_M
    /// 16/9 = 1.78 (1.20–2.20), μVeLO_M 18.6/9 = 2.07 (1.40–2.60), μAdam 24/9 = 2.67 (2.20–3.40),
    /// LO_M 47.2/9 = 5.24 (4.80–5.60). All four here are in the paper's order: 6 of 6 pairs.
    @Test func paperComparisonMatchesRowsByKindAndWorksOutByHand() throws {
        func learned(_ key: String, _ p: Parametrization, _ settings: [String: String]) -> RecordedOptimizer {
            RecordedOptimizer(key: key, label: key, parametrization: p, settingsDescription: settings)
        }
        let os = [learned("lo-a", .mup, ["step_mult": "0.01"]), learned("lo-b", .mup, ["architecture": "velo"]),
                  learned("lo-c", .standard, ["architecture": "small_fc_lopt"]), learned("muadam", .mup, [:]),
                  learned("adamw", .standard, [:]), learned("sgd", .standard, [:])]
        #expect(os.map(PaperComparison.counterpart) == ["μLO_M", "μVeLO_M", "LO_M (SP)", "μAdam", "AdamW", nil])
        #expect(PaperComparison.counterpart(learned("lo-d", .standard, ["architecture": "velo"])) == "VeLO_M (SP)")
        let spec = EvaluationSpec(template: try TaskTemplate("mumlp-w{W}-d3_synthetic-8x8x1"), widths: [8], steps: 20, seeds: 2, batch: 8)
        let finals: [(key: String, loss: Float?)] = [("lo-a", 0.1), ("lo-b", 0.2), ("muadam", 0.3), ("lo-c", nil)]
        var runs: [EvaluationRun] = []
        for (key, loss) in finals {
            for seed in 0..<2 {
                runs.append(EvaluationRun(optimizer: key, width: 8, seed: seed, task: "t", trainLoss: [Float](repeating: loss ?? .nan, count: 20),
                                          testStep: [20], testLoss: [1], testAccuracy: [0.5],
                                          divergedAt: loss == nil ? 3 + 2 * seed : nil, lossBound: nil))
            }
        }
        let report = EvaluationReport(spec: spec, optimizers: [os[0], os[1], os[2], os[3]], runs: runs)
        let c = PaperComparison(table: RankTable(studies: [RankTable.Study(name: "mlp-width", report: report)]))
        let lines = c.markdown.split(separator: "\n").map(String.init)
        #expect(lines[0] == "| optimizer | the paper's | paper: mean (its 9 columns' range) | here: all tasks | here: MLP | here against the paper's columns |")
        #expect(lines[2] == "| lo-a | μLO_M | 1.78 (1.20–2.20) | 1.00 | 1.00 | better than every column |")
        #expect(lines[3] == "| lo-b | μVeLO_M | 2.07 (1.40–2.60) | 2.00 | 2.00 | within |")
        #expect(lines[4] == "| lo-c | LO_M (SP) | 5.24 (4.80–5.60) | 4.00 | 4.00 | better than every column |")
        #expect(lines[5] == "| muadam | μAdam | 2.67 (2.20–3.40) | 3.00 | 3.00 | within |")
        #expect(lines[6] == "Order by mean rank, best first — the paper: μLO_M, μVeLO_M, μAdam, LO_M (SP); "
                    + "here: μLO_M, μVeLO_M, μAdam, LO_M (SP) (6 of 6 pairs ordered as in the paper).")
        // One optimizer alone has no order to compare.
        let alone = EvaluationReport(spec: spec, optimizers: [os[0]], runs: runs.filter { $0.optimizer == "lo-a" })
        #expect(!PaperComparison(table: RankTable(studies: [RankTable.Study(name: "mlp-width", report: alone)])).markdown.contains("Order"))
        let divergence = c.divergenceMarkdown.split(separator: "\n").map(String.init)
        #expect(divergence[0] == "| study | lo-a | lo-b | lo-c | muadam |")
        // Seeds diverged at steps 3 and 5: median 4; one width, so no width is named.
        #expect(divergence[2] == "| mlp-width | — | — | 2/2 at step 4 | — |")
    }

    /// A finding is set beside the study it varies (same template but for its variation, same
    /// depth, steps and batch, a common width), its losses first; another horizon is not matched.
    @Test func aFindingIsSetBesideTheStudyItVaries() throws {
        let width = try Self.study("mlp-width", "mumlp-w{W}-d3_synthetic-8x8x1", [8, 16], [
            Self.run("a", width: 8, train: 0.1), Self.run("b", width: 8, train: 0.2),
            Self.run("a", width: 16, train: 0.3), Self.run("b", width: 16, train: 0.4),
        ])
        let vit = try Self.study("vit-width", "muvit-w{W}-d3_fashionmnist-28x28x1", [8], [Self.run("a", width: 8, train: 0.7)])
        func finding(_ template: String, steps: Int = 20, crossed: Parametrization? = nil) throws -> EvaluationReport {
            let spec = EvaluationSpec(template: try TaskTemplate(template), widths: [8, 32], steps: steps, seeds: 1, batch: 8,
                                      taskParametrization: crossed)
            let runs = [Self.run("a", width: 8, train: 0.5), Self.run("b", width: 8, train: nil),
                        Self.run("a", width: 32, train: 0.6), Self.run("b", width: 32, train: 0.9)]
            return EvaluationReport(spec: spec, optimizers: [Self.optimizer("a"), Self.optimizer("b")], runs: runs)
        }
        let crossed = try finding("mumlp-w{W}-d3_synthetic-8x8x1", crossed: .standard)
        let varied = FindingBeside.study(variedBy: crossed, among: [vit, width])
        #expect(varied?.name == "mlp-width")
        let lines = FindingBeside.markdown(crossed, beside: try #require(varied)).split(separator: "\n").map(String.init)
        #expect(lines == ["| optimizer | w8 |", "| --- | --- |", "| A | 0.5000 · 0.1000 |", "| B | diverged 1/1 · 0.2000 |"])
        #expect(FindingBeside.study(variedBy: try finding("mumlp-w{W}-d3_synthetic-8x8x1", steps: 40, crossed: .standard),
                                    among: [vit, width]) == nil)
        #expect(FindingBeside.study(variedBy: try finding("muvit-w{W}-d3-corrected_fashionmnist-28x28x1"), among: [width, vit])?.name == "vit-width")
    }

    @Test func readmeBlockIsReplacedAndMissingMarkersAreAnError() throws {
        let readme = "intro\n\(ResultsDocument.begin)\nold\n\(ResultsDocument.end)\nrest\n"
        #expect(try ResultsDocument.embed("new\n", in: readme) == "intro\n\(ResultsDocument.begin)\nnew\n\(ResultsDocument.end)\nrest\n")
        #expect(throws: TaskError.self) { try ResultsDocument.embed("x", in: "no markers") }
    }

    /// A study evaluated with another θ than the shipped file of the same name says so.
    @Test func aStudyOfAnEarlierThetaIsFlagged() throws {
        let dir = try Support.tempDir()
        let (ck, results) = (dir.appendingPathComponent("ck").path, dir.appendingPathComponent("results").path)
        try FileManager.default.createDirectory(atPath: ck, withIntermediateDirectories: true)
        #expect(try Support.mulo(["lo-init", "--out", "\(ck)/lo-a.h5"]).status == 0)
        let e = try Support.mulo(["evaluate-on-width", "--checkpoint", "\(ck)/lo-a.h5", "--template", "mumlp-w{W}-d2_synthetic-8x8x1",
                                  "--widths", "8", "--steps", "4", "--seeds", "1", "--batch", "8", "--test-examples", "20",
                                  "--out", "\(results)/mlp-width"])
        #expect(e.status == 0, "\(e.stderr)")
        func document() throws -> String {
            let r = try Support.mulo(["report", "--results", results, "--checkpoints", ck, "--readme", ""])
            #expect(r.status == 0, "\(r.stderr)")
            return try String(contentsOfFile: "\(results)/RESULTS.md", encoding: .utf8)
        }
        #expect(try !document().contains("earlier θ"))
        #expect(try Support.mulo(["lo-init", "--seed", "7", "--out", "\(ck)/lo-a.h5", "--overwrite"]).status == 0)
        #expect(try document().contains("ran with an earlier θ"))
    }

    /// Every figure in the README's Results block and in results/RESULTS.md is what `mulo report`
    /// computes from Checkpoints/ and results/ (none typed by hand).
    /// From any working directory the report reads the repository's files (it failed outside it
    /// with a raw "file doesn't exist" for Checkpoints); a wrong --checkpoints is named.
    @Test func committedResultsAreWhatTheFilesGive() throws {
        for cwd in [Support.repoRoot, try Support.tempDir()] {
            let r = try Support.mulo(["report", "--check"], cwd: cwd)
            #expect(r.status == 0, "\(cwd.path): \(r.stdout)\(r.stderr)")
        }
        let wrong = try Support.mulo(["report", "--check", "--checkpoints", "/nonexistent"])
        #expect(wrong.status != 0 && wrong.stderr.contains("/nonexistent is not a directory of shipped θ files"), "\(wrong.stderr)")
        // Foundation's file errors read as path and reason, not an NSError dump.
        let noReadme = try Support.mulo(["report", "--check", "--readme", "/nonexistent.md"])
        #expect(noReadme.status != 0 && noReadme.stderr == "error: /nonexistent.md: no such file or directory\n", "\(noReadme.stderr)")
    }
}
