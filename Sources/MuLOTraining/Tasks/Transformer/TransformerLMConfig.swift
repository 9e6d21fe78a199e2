import Foundation

/// The decoder-only language model of TRANSFORMERS §2 in SP (`transformer-…`) or μP
/// (`mutransformer-…`): sizes, the parameters in the reference's order with their names, shapes
/// and μP step scales (§2.2), and their initialisation.
public struct TransformerLMConfig: Sendable, Equatable {
    public var width: Int
    public var depth: Int
    public var heads: Int
    public var vocab: Int
    public var seqLen: Int
    public var parametrization: Parametrization
    /// Inverted dropout on both residual branches in every loss evaluation (§2.1; 0.1 in the reference).
    public var dropout: Float

    public init(width: Int, depth: Int, heads: Int, vocab: Int, seqLen: Int, parametrization: Parametrization,
                dropout: Float = 0.1) {
        (self.width, self.depth, self.heads, self.vocab) = (width, depth, heads, vocab)
        (self.seqLen, self.parametrization, self.dropout) = (seqLen, parametrization, dropout)
    }

    var mu: Bool { parametrization == .mup }
    /// SP heads have 32 units whatever the width; μP heads split the width.
    public var headSize: Int { mu ? width / heads : 32 }
    public var attnWidth: Int { headSize * heads }
    public var ffnWidth: Int { 4 * width }
    /// μP scales attention logits by 1/d, SP by 1/√32.
    public var logitScale: Float { mu ? 1 / Float(headSize) : 1 / Float(32).squareRoot() }
    /// μP multiplies the readout (bias included) by output_mult/W.
    public var outputMultiplier: Float { mu ? 1 / Float(width) : 1 }
    var prefix: String { mu ? "mu_transformer" : "transformer" }

    /// The blocks: Haiku's LayerNorm (ε 1e-5, two-pass variance), causal + pad masking, dropout.
    var blocks: TransformerBlocks {
        TransformerBlocks(width: width, depth: depth, heads: heads, headSize: headSize, tokens: seqLen, eps: 1e-5,
                          variance: .twoPass, logitScale: logitScale, causal: true, dropout: dropout, first: 1)
    }

    /// Parameter positions: the embedding, 16 per block, then the final norm and the readout.
    var finalNorm: Int { blocks.end }
    var readout: Int { finalNorm + 2 }

    public var parameterSpecs: [ParameterSpec] {
        let (W, A, F, V) = (width, attnWidth, ffnWidth, vocab)
        let p = prefix
        func spec(_ name: String, _ shape: [Int], _ cls: LayerClass, _ scale: Float = 1) -> ParameterSpec {
            ParameterSpec(name: "\(p)/\(name)", shape: shape, layerClass: cls, updateScale: mu ? scale : 1)
        }
        var specs = [spec(mu ? "embed_in/embeddings" : "embed/embeddings", [V, W], .input)]
        for i in 0..<depth {
            let h = "h\(i)"
            specs += [spec("\(h)_ln_1/scale", [W], .bias), spec("\(h)_ln_1/offset", [W], .bias)]
            for m in ["query", "key", "value"] {
                specs += [spec("\(h)_attn/\(m)/w", [W, A], .hidden, 1 / Float(A)), spec("\(h)_attn/\(m)/b", [A], .bias)]
            }
            specs += [spec("\(h)_attn/linear/w", [A, W], .hidden, 1 / Float(A)), spec("\(h)_attn/linear/b", [W], .bias),
                      spec("\(h)_ln_2/scale", [W], .bias), spec("\(h)_ln_2/offset", [W], .bias),
                      spec("\(h)_mlp/linear/w", [W, F], .hidden, 1 / Float(W)), spec("\(h)_mlp/linear/b", [F], .bias),
                      spec("\(h)_mlp/linear_1/w", [F, W], .hidden, 1 / Float(F)), spec("\(h)_mlp/linear_1/b", [W], .bias)]
        }
        specs += [spec("h_f/scale", [W], .bias), spec("h_f/offset", [W], .bias)]
        specs += mu ? [spec("linear_out/w", [W, V], .output), spec("linear_out/b", [V], .bias)]
            : [spec("linear/w", [W, V], .output), spec("linear/b", [V], .bias)]
        return specs
    }

    func initializer(_ k: Int) -> ParameterInit {
        let (W, A, F, V, D) = (Float(width), Float(attnWidth), Float(ffnWidth), Float(vocab), Float(depth))
        if k == 0 { return mu ? .normal(1 / V.squareRoot()) : .truncated(1) }
        if k == readout { return mu ? .zeros : .truncated(1 / W.squareRoot()) }
        if k == readout + 1 { return mu ? .normal(1) : .zeros }
        if k == finalNorm { return .ones }
        if k == finalNorm + 1 { return .zeros }
        switch TransformerBlocks.Slot(rawValue: (k - 1) % TransformerBlocks.perBlock)! {
        case .ln1Scale, .ln2Scale: return .ones
        case .ln1Offset, .ln2Offset: return .zeros
        case .queryB, .keyB, .valueB, .outB, .ffnB1, .ffnB2: return mu ? .normal(1) : .zeros
        case .queryW, .keyW, .valueW: return mu ? .normal(1 / W.squareRoot()) : .varianceScaling((2 / (D * W)).squareRoot())
        case .outW: return mu ? .normal(1 / W.squareRoot()) : .varianceScaling((2 / (D * A)).squareRoot())
        case .ffnW1: return mu ? .normal(1 / W.squareRoot()) : .varianceScaling((2 / (D * W)).squareRoot())
        case .ffnW2: return mu ? .normal(1 / F.squareRoot()) : .varianceScaling((2 / (D * F)).squareRoot())
        }
    }

    public func initialize(key: RNGKey) -> [Tensor] { initializeParameters(parameterSpecs, key: key, initializer) }
}
