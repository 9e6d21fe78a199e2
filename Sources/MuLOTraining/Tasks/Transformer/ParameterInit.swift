/// How a transformer parameter is drawn (TRANSFORMERS §2.2, §3.2), from its own key.
enum ParameterInit: Equatable {
    case zeros, ones
    case normal(Float)
    /// Truncated to ±2σ, not rescaled (Haiku's `TruncatedNormal`, JAX's `truncated_normal`): std 0.88·σ.
    case truncated(Float)
    /// Truncated to ±2 and rescaled so that the std is σ (Haiku's VarianceScaling, flax's LeCun normal).
    case varianceScaling(Float)
    /// U(−limit, limit) (flax's Glorot uniform).
    case uniform(Float)

    /// The std of a standard normal truncated to ±2 (the rescaling constant).
    static let truncatedNormalStd: Float = 0.87962566

    func draw(shape: [Int], key: RNGKey) -> Tensor {
        var t = Tensor(zeros: shape)
        switch self {
        case .zeros: break
        case .ones: t.data = [Float](repeating: 1, count: t.count)
        case .normal(let s): key.fillNormal(&t.data, std: s)
        case .truncated(let s): key.fillTruncatedNormal(&t.data, std: s)
        case .varianceScaling(let s): key.fillTruncatedNormal(&t.data, std: s / Self.truncatedNormalStd)
        case .uniform(let limit): key.fillUniform(&t.data, low: -limit, high: limit)
        }
        return t
    }
}

/// Every parameter of `specs` drawn by `initializer(k)` from the k-th split of `key`.
func initializeParameters(_ specs: [ParameterSpec], key: RNGKey, _ initializer: (Int) -> ParameterInit) -> [Tensor] {
    specs.enumerated().map { k, spec in initializer(k).draw(shape: spec.shape, key: key.split(UInt64(k))) }
}
