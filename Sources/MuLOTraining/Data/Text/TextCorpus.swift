import Foundation

/// A corpus of sentences for the language-model tasks (TRANSFORMERS §2.5, §6.1), tokenised to
/// bytes: id = UTF-8 byte + 3, with 0 = pad, 1 = EOS, 2 = UNK (V = 259). One sentence per
/// example, cropped to its first S+1 tokens or right-padded with 0, split into inputs t[0:S]
/// and targets t[1:S+1]; no BOS, no EOS, never packed. Splits are fixed by sentence position:
/// every 20th sentence is test, the one before it outer-valid, the rest train.
public final class TextCorpus: TaskData {
    public static let vocabulary = 259
    public let name: String
    /// S: each example is S input tokens and S targets.
    public let sequenceLength: Int
    let sentences: [DataSplit: [[UInt8]]]

    public init(name: String, sentences all: [[UInt8]], sequenceLength: Int) throws {
        guard sequenceLength >= 2 else { throw DataError("corpus \(name): sequence length \(sequenceLength); S must be ≥ 2") }
        self.sequenceLength = sequenceLength
        guard all.count >= 20 else {
            throw DataError("corpus \(name): \(all.count) sentences; at least 20 are needed for train, valid and test splits")
        }
        self.name = name
        var splits: [DataSplit: [[UInt8]]] = [.train: [], .outerValid: [], .test: []]
        for (i, s) in all.enumerated() { splits[i % 20 == 19 ? .test : i % 20 == 18 ? .outerValid : .train]!.append(s) }
        sentences = splits
    }

    public func count(_ split: DataSplit) throws -> Int {
        guard let s = sentences[split] else { throw DataError("corpus \(name) has no \(split.rawValue) split (it has train, outer-valid, test)") }
        return s.count
    }

    public func sampleBatch(_ split: DataSplit, size: Int, key: RNGKey, into batch: inout Batch) throws {
        let n = try count(split)
        guard size <= n else { throw DataError("corpus \(name): batch \(size) exceeds its \(n) \(split.rawValue) sentences") }
        fill(&batch, split: split, indices: key.distinctIndices(size, below: n))
        // Dropout masks come from the batch's key, so both copies of a PES pair see the same ones.
        batch.noiseKey = key.split(0x6e6f_6973_65)
    }

    public func sequentialBatch(_ split: DataSplit, start: Int, size: Int, into batch: inout Batch) throws {
        let n = try count(split)
        guard start >= 0, size >= 0, start + size <= n else {
            throw DataError("corpus \(name): sentences \(start)..<\(start + size) lie outside the \(n) of \(split.rawValue)")
        }
        fill(&batch, split: split, indices: Array(start..<(start + size)))
        batch.noiseKey = RNGKey(seed: UInt64(start))
    }

    private func fill(_ batch: inout Batch, split: DataSplit, indices: [Int]) {
        let S = sequenceLength
        batch.resizeTokens(size: indices.count, length: S)
        let list = sentences[split]!
        for (b, i) in indices.enumerated() {
            let s = list[i]
            for t in 0..<S {
                batch.tokens[b * S + t] = t < s.count ? Int32(s[t]) + 3 : 0
                batch.labels[b * S + t] = t + 1 < s.count ? Int32(s[t + 1]) + 3 : 0
            }
        }
    }
}

extension TextCorpus {
    /// Sentences of running text: paragraphs are runs of non-empty lines; a sentence ends after
    /// `.`, `!` or `?` (and any closing quotes or brackets) followed by white space. White
    /// space inside a sentence becomes one space; sentences without a letter are dropped.
    static func sentences(lines: [String]) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var current: [UInt8] = []
        var pendingSpace = false
        var ended = false
        func flush() {
            if current.contains(where: { ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 >= 0xC0 }) { out.append(current) }
            current = []
            pendingSpace = false
            ended = false
        }
        for line in lines {
            let bytes = Array(line.utf8)
            if bytes.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 13 }) {
                flush()
                continue
            }
            if !current.isEmpty { pendingSpace = true }
            for c in bytes {
                if c == 32 || c == 9 || c == 13 {
                    if ended { flush() } else if !current.isEmpty { pendingSpace = true }
                    continue
                }
                if pendingSpace, ended { flush() }
                if pendingSpace, !current.isEmpty { current.append(32) }
                pendingSpace = false
                current.append(c)
                if c == 46 || c == 33 || c == 63 { ended = true }  // . ! ?
                else if ended, [34, 39, 41, 93].contains(c) || c >= 0x80 { continue }  // closing " ' ) ] or a multi-byte quote
                else { ended = false }
            }
            if ended { flush() }
        }
        flush()
        return out
    }
}
