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
        let n = try TaskNameParts(text, sp: "transformer", mu: "mutransformer", form: "{model}-w{W}-d{D}[-h{H}]")
        guard n.options.count <= 1 else { throw n.error("model part must be {model}-w{W}-d{D}[-h{H}]") }
        let h = try n.options.first.map { try n.number($0, "h", "heads") }
        let data = n.data.split(separator: "-", omittingEmptySubsequences: false)
        guard data.count == 3 else { throw n.error("data part must be {corpus}-s{S}-{vocab}") }
        let s = try n.number(data[1], "s", "sequence length")
        guard s >= 2 else { throw n.error("sequence length S must be ≥ 2") }
        guard data[2] == "bytes" else {
            throw n.error("vocabulary '\(data[2])' is not available; MuLO has the byte vocabulary (259 ids, TRANSFORMERS §6.1): 'bytes'")
        }
        let spec = TransformerTaskName(parametrization: n.parametrization, width: n.width, depth: n.depth, heads: h,
                                       corpus: String(data[0]), sequenceLength: s)
        guard n.parametrization == .standard || n.width % spec.heads == 0 else {
            throw n.error("width \(n.width) is not divisible by \(spec.heads) heads")
        }
        self = spec
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

    public func buildTask(dataDir: String?) throws -> any Task {
        // Templates make specs at other widths without parsing, so the check of `init(parsing:)` is repeated here.
        if parametrization == .mup, width % heads != 0 { throw TaskError("task \(self): width \(width) is not divisible by \(heads) heads") }
        return TransformerLMTask(name: description, config: config,
                                 corpus: try CorpusLoader.load(corpus, sequenceLength: sequenceLength, dataDir: dataDir))
    }
}
