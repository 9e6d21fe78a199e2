import Foundation

/// The language-model task: an SP or μP decoder (`transformer-…` / `mutransformer-…`) trained on
/// a text corpus with the masked token-level cross-entropy of TRANSFORMERS §2.3.
public struct TransformerLMTask: ModelTask {
    public let name: String
    public let model: TransformerLMModel
    public let corpus: TextCorpus
    public let parameterSpecs: [ParameterSpec]

    public init(name: String, config: TransformerLMConfig, corpus: TextCorpus) {
        precondition(config.vocab == TextCorpus.vocabulary && config.seqLen == corpus.sequenceLength)
        self.name = name
        self.model = TransformerLMModel(config: config)
        self.corpus = corpus
        self.parameterSpecs = config.parameterSpecs
    }

    public var parametrization: Parametrization { config.parametrization }
    public var data: any TaskData { corpus }
    /// 1.5·ln V, as for V-way classification (the reference never meta-trains on these tasks, so it has no normaliser).
    public var lossClipBound: Float { classificationLossBound(classes: config.vocab) }

    /// 8192 tokens per pass.
    public var evaluationChunk: Int { max(1, 8192 / config.seqLen) }

    /// §4.2: MAC = B·S·(D·(8W² + 4W·A) + W·V) + B·D·2·S²·A (attention dense, masked entries included).
    public func trainingFlops(batchSize: Int) -> Double {
        let (B, S, D, W, A, V) = (Double(batchSize), Double(config.seqLen), Double(config.depth), Double(config.width),
                                  Double(config.attnWidth), Double(config.vocab))
        return 6 * (B * S * (D * (8 * W * W + 4 * W * A) + W * V) + B * D * 2 * S * S * A)
    }

    public func initialize(key: RNGKey) -> [Tensor] { config.initialize(key: key) }
}
