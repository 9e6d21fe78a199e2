import Foundation
import Testing
@testable import MuLO
@testable import MuLOTraining

@Suite("text corpora for the language models")
struct TextCorpusTests {
    static var austenAvailable: Bool {
        CorpusLoader.austenCandidates.contains(where: FileManager.default.fileExists)
    }

    @Test func sentencesSplitAtTerminatorsAndParagraphs() {
        let lines = ["It is a truth universally", "acknowledged.  \"Is it?\" said she!", "", "CHAPTER 1", "", "  ", "No end"]
        let s = TextCorpus.sentences(lines: lines).map { String(decoding: $0, as: UTF8.self) }
        #expect(s == ["It is a truth universally acknowledged.", "\"Is it?\"", "said she!", "CHAPTER 1", "No end"])
    }

    /// Inputs are bytes + 3 cropped or padded with 0; targets are the inputs shifted by one.
    @Test func batchesCropPadAndShift() throws {
        let sentences = (0..<40).map { i in Array((i % 2 == 0 ? "ab" : "abcdefgh").utf8) }
        let corpus = try TextCorpus(name: "t", sentences: sentences, sequenceLength: 4)
        var batch = Batch()
        try corpus.sequentialBatch(.train, start: 0, size: 2, into: &batch)
        let (a, b) = (Int32(UInt8(ascii: "a")) + 3, Int32(UInt8(ascii: "b")) + 3)
        #expect(Array(batch.tokens[0..<4]) == [a, b, 0, 0] && Array(batch.labels[0..<4]) == [b, 0, 0, 0])
        #expect(Array(batch.tokens[4..<8]) == [a, b, b + 1, b + 2] && Array(batch.labels[4..<8]) == [b, b + 1, b + 2, b + 3])
        #expect(try corpus.count(.test) == 2 && corpus.count(.outerValid) == 2 && corpus.count(.train) == 36)
        var again = Batch()
        try corpus.sampleBatch(.train, size: 5, key: RNGKey(seed: 3), into: &batch)
        try corpus.sampleBatch(.train, size: 5, key: RNGKey(seed: 3), into: &again)
        #expect(batch.tokens == again.tokens && batch.noiseKey == again.noiseKey)
    }

    /// Jane Austen's six novels from the Debian package's R data file (TRANSFORMERS §6.1: 73,422
    /// lines; a naive splitter finds ≈33.8 k sentences).
    @Test(.enabled(if: austenAvailable)) func austenReadsAllSixNovels() throws {
        let path = try #require(CorpusLoader.austenCandidates.first(where: FileManager.default.fileExists))
        let records = try RDataStrings.records(path)
        #expect(records.count == 6 && records.reduce(0) { $0 + $1.count } >= 70_000)
        #expect(records.joined().contains("It is a truth universally acknowledged, that a single man in possession"))
        let corpus = try CorpusLoader.load("austen", sequenceLength: 64)
        let total = try corpus.count(.train) + corpus.count(.outerValid) + corpus.count(.test)
        #expect((28_000...45_000).contains(total), "\(total) sentences")
    }

    @Test func badCorporaAreClearErrors() throws {
        let dir = try Support.tempDir()
        try Data().write(to: dir.appendingPathComponent("empty.txt"))
        try Data([0x66, 0xff, 0xfe, 0x2e]).write(to: dir.appendingPathComponent("latin.txt"))
        let cases: [(String, Int, String)] = [("nosuchcorpus", 8, "unknown corpus"), ("empty", 8, "no sentences"),
                                              ("latin", 8, "not UTF-8"), ("../etc", 8, "letters, digits")]
        for (name, s, message) in cases {
            let e = #expect(throws: DataError.self) { try CorpusLoader.load(name, sequenceLength: s, dataDir: dir.path) }
            #expect(e?.message.contains(message) == true, "\(name): \(e?.message ?? "no error")")
        }
        let tooShort = #expect(throws: DataError.self) { try TextCorpus(name: "x", sentences: Array(repeating: [65, 46], count: 30), sequenceLength: 1) }
        #expect(tooShort?.message.contains("S must be ≥ 2") == true)
    }

    @Test func corruptRDataIsAClearError() throws {
        let dir = try Support.tempDir()
        let path = dir.appendingPathComponent("Rdata.rdb").path
        for bytes: [UInt8] in [[0, 0, 0, 10, 1, 2, 3], [0x7f, 0xff, 0xff, 0xff, 0x78, 0x9c], [0, 0, 0]] {
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            #expect(throws: DataError.self) { try RDataStrings.records(path) }
        }
    }

    @Test(arguments: ["mutransformer-w66-d1-h4_austen-s8-bytes", "mutransformer-w64-d1_austen-s1-bytes",
                      "mutransformer-w64-d1_austen-s8-v32k", "transformer-w64-d0_austen-s8-bytes", "mutransformer-w64-d1_austen-bytes"])
    func badNamesAreClearErrors(name: String) {
        #expect(throws: TaskError.self) { try TaskRegistry.parse(name) }
    }

    @Test func namesRoundTripAndSubstituteWidths() throws {
        let spec = try TaskRegistry.parse("mutransformer-w128-d3_austen-s64-bytes")
        #expect(spec.description == "mutransformer-w128-d3_austen-s64-bytes" && spec.width == 128 && spec.parametrization == .mup)
        let t = try TaskTemplate("mutransformer-w{W}-d3-h4_austen-s32-bytes")
        #expect(try t.name(width: 256, depth: 2, parametrization: .standard).description == "transformer-w256-d2-h4_austen-s32-bytes")
    }
}
