import Foundation

/// The Vision Transformer of TRANSFORMERS §3 in SP (`vit-…`, vit_jax) or μP (`muvit-…`): patch
/// embedding, class token, learned positions, pre-LN encoder blocks (flax LayerNorm, ε 1e-6,
/// E[x²] − E[x]² variance), final norm, the class token's head. Tensors keep the reference's
/// stored shapes (q/k/v kernels [W, H, d], out kernel [H, d, W], patch kernel [P, P, c, W]) so
/// the learned optimizer factors them as the reference does (§5.3); in memory each is the
/// matrix the BLAS calls use.
public struct ViTConfig: Sendable, Equatable {
    public var width: Int, depth: Int, heads: Int
    /// The image as the model sees it (after any zero border) and its patch size.
    public var imageHeight: Int, imageWidth: Int, channels: Int, patch: Int
    /// Zero border added on each side of the dataset's images (2 turns Fashion-MNIST's 28 into 32).
    public var border: Int
    public var classes: Int
    public var parametrization: Parametrization
    /// The μViT's corrected μP instead of the reference's (§7 items 1 and 3): out-kernel step
    /// scale 1/W instead of 1/d, and initialisers by fan-in (patch kernel 1/√p, positions 1, Dense_1 1/√(4W)).
    public var correctedMuP: Bool

    public init(width: Int, depth: Int, heads: Int, imageHeight: Int, imageWidth: Int, channels: Int, patch: Int,
                border: Int = 0, classes: Int, parametrization: Parametrization, correctedMuP: Bool = false) {
        (self.width, self.depth, self.heads) = (width, depth, heads)
        (self.imageHeight, self.imageWidth, self.channels, self.patch, self.border) = (imageHeight, imageWidth, channels, patch, border)
        (self.classes, self.parametrization, self.correctedMuP) = (classes, parametrization, correctedMuP)
    }

    var mu: Bool { parametrization == .mup }
    public var headSize: Int { width / heads }
    public var ffnWidth: Int { 4 * width }
    public var patches: Int { (imageHeight / patch) * (imageWidth / patch) }
    public var tokens: Int { patches + 1 }
    public var patchDim: Int { patch * patch * channels }
    /// μP divides q by d (1/d), SP by √d.
    public var logitScale: Float { mu ? 1 / Float(headSize) : 1 / Float(headSize).squareRoot() }
    public var outputMultiplier: Float { mu ? 1 / Float(width) : 1 }

    var blocks: TransformerBlocks {
        TransformerBlocks(width: width, depth: depth, heads: heads, headSize: headSize, tokens: tokens, eps: 1e-6,
                          variance: .moments, logitScale: logitScale, causal: false, dropout: 0, first: 4)
    }
    var finalNorm: Int { blocks.end }
    var head: Int { finalNorm + 2 }

    public var parameterSpecs: [ParameterSpec] {
        let (W, H, d, M, C, T, P) = (width, heads, headSize, ffnWidth, classes, tokens, patch)
        func spec(_ name: String, _ shape: [Int], _ cls: LayerClass, _ scale: Float = 1) -> ParameterSpec {
            ParameterSpec(name: name, shape: shape, layerClass: cls, updateScale: mu ? scale : 1)
        }
        var specs = [spec("embedding/kernel", [P, P, channels, W], .input), spec("embedding/bias", [W], .bias),
                     spec("cls", [1, 1, W], .input), spec("Transformer/posembed_input/pos_embedding", [1, T, W], .input)]
        for i in 0..<depth {
            let b = "Transformer/encoderblock_\(i)", a = "\(b)/MultiHeadDotProductAttention_0"
            specs += [spec("\(b)/LayerNorm_0/scale", [W], .bias), spec("\(b)/LayerNorm_0/bias", [W], .bias)]
            for m in ["query", "key", "value"] {
                specs += [spec("\(a)/\(m)/kernel", [W, H, d], .hidden, 1 / Float(W)), spec("\(a)/\(m)/bias", [H, d], .bias)]
            }
            // The reference divides the out kernel's step by shape[1] = d (§7 item 1).
            specs += [spec("\(a)/out/kernel", [H, d, W], .hidden, 1 / Float(correctedMuP ? W : d)), spec("\(a)/out/bias", [W], .bias),
                      spec("\(b)/LayerNorm_1/scale", [W], .bias), spec("\(b)/LayerNorm_1/bias", [W], .bias),
                      spec("\(b)/MlpBlock_0/Dense_0/kernel", [W, M], .hidden, 1 / Float(W)), spec("\(b)/MlpBlock_0/Dense_0/bias", [M], .bias),
                      spec("\(b)/MlpBlock_0/Dense_1/kernel", [M, W], .hidden, 1 / Float(M)), spec("\(b)/MlpBlock_0/Dense_1/bias", [W], .bias)]
        }
        specs += [spec("Transformer/encoder_norm/scale", [W], .bias), spec("Transformer/encoder_norm/bias", [W], .bias),
                  spec("head/kernel", [W, C], .output), spec("head/bias", [C], .bias)]
        return specs
    }

    func initializer(_ k: Int) -> ParameterInit {
        let (W, M, p) = (Float(width), Float(ffnWidth), Float(patchDim))
        let fix = correctedMuP
        switch k {
        case 0: return mu ? .truncated(1 / (fix ? p : W).squareRoot()) : .varianceScaling(1 / p.squareRoot())
        case 1: return mu ? .normal(1) : .zeros
        case 2: return .zeros
        case 3: return mu ? .truncated(fix ? 1 : 1 / W.squareRoot()) : .normal(0.02)
        case finalNorm: return .ones
        case finalNorm + 1: return .zeros
        case head: return .zeros
        case head + 1: return mu ? .normal(1) : .zeros
        default: break
        }
        switch TransformerBlocks.Slot(rawValue: (k - 4) % TransformerBlocks.perBlock)! {
        case .ln1Scale, .ln2Scale: return .ones
        case .ln1Offset, .ln2Offset: return .zeros
        case .queryB, .keyB, .valueB, .outB: return mu ? .normal(1) : .zeros
        case .ffnB1, .ffnB2: return mu ? .normal(1) : .normal(1e-6)
        case .queryW, .keyW, .valueW, .outW: return mu ? .truncated(1 / W.squareRoot()) : .uniform((3 / W).squareRoot())
        case .ffnW1: return mu ? .truncated(1 / W.squareRoot()) : .uniform((6 / (W + M)).squareRoot())
        case .ffnW2: return mu ? .truncated(1 / (fix ? M : W).squareRoot()) : .uniform((6 / (W + M)).squareRoot())
        }
    }

    public func initialize(key: RNGKey) -> [Tensor] { initializeParameters(parameterSpecs, key: key, initializer) }
}
