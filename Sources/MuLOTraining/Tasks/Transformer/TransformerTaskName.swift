/// Language-model task names (TRANSFORMERS §1): `{transformer|mutransformer}-w{W}-d{D}[-h{H}]_{corpus}-s{S}-{vocab}`,
/// e.g. `mutransformer-w128-d3_austen-s64-bytes`. Without `-h{H}` the heads follow §1's table.
public struct TransformerTaskName: TaskSpec, Hashable {
    public static let family = TaskRegistry.Family(prefixes: ["transformer", "mutransformer"], forms: validForms) {
        try TransformerTaskName(parsing: $0)
    }

    public static let validForms = """
        transformer-w{W}-d{D}[-h{H}]_{corpus}-s{S}-bytes (SP) or mutransformer-… (μP), corpus austen or a \
        <data-dir>/<name>.txt file, S ≥ 2, e.g. mutransformer-w128-d3_austen-s64-bytes
        """

    public let parametrization: Parametrization
    public let width: Int
    public let depth: Int
    /// nil: the default for the width (`defaultHeads`).
    public let explicitHeads: Int?
    public let corpus: String
    public let sequenceLength: Int

    public init(parametrization: Parametrization, width: Int, depth: Int, heads: Int? = nil, corpus: String,
                sequenceLength: Int) {
        (self.parametrization, self.width, self.depth, self.explicitHeads) = (parametrization, width, depth, heads)
        (self.corpus, self.sequenceLength) = (corpus, sequenceLength)
    }

    /// The reference registry's heads where it has the width, else heads of 64 units (at least one).
    public static func defaultHeads(width: Int) -> Int {
        let registry = [64: 2, 128: 2, 192: 3, 384: 6, 768: 12, 1024: 8, 2048: 16, 4096: 32]
        return registry[width] ?? max(1, width / 64)
    }

    public var heads: Int { explicitHeads ?? Self.defaultHeads(width: width) }

    public init(parsing text: String) throws {
        func bad(_ why: String) -> TaskError { TaskError("task '\(text)': \(why); valid task names: \(TaskRegistry.validForms)") }
        guard let us = text.firstIndex(of: "_") else { throw bad("missing '_{corpus}-s{S}-{vocab}'") }
        let model = text[..<us].split(separator: "-", omittingEmptySubsequences: false)
        guard model.count == 3 || model.count == 4 else { throw bad("model part must be {model}-w{W}-d{D}[-h{H}]") }
        let p: Parametrization
        switch model[0] {
        case "transformer": p = .standard
        case "mutransformer": p = .mup
        default: throw bad("unknown model '\(model[0])'")
        }
        let w = try Self.number(model[1], "w", "width", bad)
        let d = try Self.number(model[2], "d", "depth", bad)
        let h = model.count == 4 ? try Self.number(model[3], "h", "heads", bad) : nil
        let data = text[text.index(after: us)...].split(separator: "-", omittingEmptySubsequences: false)
        guard data.count == 3 else { throw bad("data part must be {corpus}-s{S}-{vocab}") }
        let s = try Self.number(data[1], "s", "sequence length", bad)
        guard s >= 2 else { throw bad("sequence length S must be ≥ 2") }
        guard data[2] == "bytes" else {
            throw bad("vocabulary '\(data[2])' is not available; MuLO has the byte vocabulary (259 ids, TRANSFORMERS §6.1): 'bytes'")
        }
        let spec = TransformerTaskName(parametrization: p, width: w, depth: d, heads: h, corpus: String(data[0]), sequenceLength: s)
        guard p == .standard || w % spec.heads == 0 else { throw bad("width \(w) is not divisible by \(spec.heads) heads") }
        self = spec
    }

    static func number(_ part: Substring, _ letter: Character, _ what: String, _ bad: (String) -> TaskError) throws -> Int {
        guard part.first == letter, let v = Int(part.dropFirst()), v >= 1, v <= 1 << 20 else {
            throw bad("\(what) must be \(letter){n} with 1 ≤ n ≤ 2^20")
        }
        return v
    }

    public var description: String {
        "\(parametrization == .mup ? "mu" : "")transformer-w\(width)-d\(depth)\(explicitHeads.map { "-h\($0)" } ?? "")_\(corpus)-s\(sequenceLength)-bytes"
    }

    public func with(width: Int, depth: Int, parametrization: Parametrization) -> any TaskSpec {
        TransformerTaskName(parametrization: parametrization, width: width, depth: depth, heads: explicitHeads, corpus: corpus,
                            sequenceLength: sequenceLength)
    }

    public var config: TransformerLMConfig {
        TransformerLMConfig(width: width, depth: depth, heads: heads, vocab: TextCorpus.vocabulary, seqLen: sequenceLength,
                            parametrization: parametrization)
    }

    public func makeTask(dataDir: String?) throws -> any Task {
        if parametrization == .mup, width % heads != 0 { throw TaskError("task \(self): width \(width) is not divisible by \(heads) heads") }
        return TransformerLMTask(name: description, config: config,
                                 corpus: try CorpusLoader.load(corpus, sequenceLength: sequenceLength, dataDir: dataDir))
    }
}
