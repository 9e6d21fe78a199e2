/// A ReLU MLP with D hidden layers in standard or μP parametrization (METHOD §3.2).
/// Parameters are `linear_<i>.w` [fan_in, fan_out] and `linear_<i>.b` [fan_out], in that order.
public struct MLPConfig: Sendable, Hashable, Codable {
    public var inputDim: Int
    public var hiddenWidths: [Int]
    public var classes: Int
    public var parametrization: Parametrization
    /// μP multipliers (METHOD §3.1); 1 by default and ignored in SP.
    public var inputMult: Float = 1
    public var outputMult: Float = 1
    public var hiddenLRMult: Float = 1

    public init(inputDim: Int, hiddenWidths: [Int], classes: Int, parametrization: Parametrization,
                inputMult: Float = 1, outputMult: Float = 1, hiddenLRMult: Float = 1) {
        precondition(inputDim > 0 && classes > 0 && !hiddenWidths.isEmpty && hiddenWidths.allSatisfy { $0 > 0 })
        self.inputDim = inputDim
        self.hiddenWidths = hiddenWidths
        self.classes = classes
        self.parametrization = parametrization
        self.inputMult = inputMult
        self.outputMult = outputMult
        self.hiddenLRMult = hiddenLRMult
    }

    /// Sizes along the network: input, hidden widths…, classes.
    public var sizes: [Int] { [inputDim] + hiddenWidths + [classes] }
    public var layerCount: Int { hiddenWidths.count + 1 }

    func layerClass(_ l: Int) -> LayerClass {
        l == 0 ? .input : (l == layerCount - 1 ? .output : .hidden)
    }

    /// The forward multiplier of layer l, applied after its bias.
    public func multiplier(_ l: Int) -> Float {
        guard parametrization == .mup else { return 1 }
        switch layerClass(l) {
        case .input: return inputMult
        case .output: return outputMult / Float(sizes[l])
        default: return 1
        }
    }

    public var parameterSpecs: [ParameterSpec] {
        (0..<layerCount).flatMap { l -> [ParameterSpec] in
            let cls = layerClass(l)
            // The absolute 1/fan_in step scale on hidden matrices only (METHOD §3.2).
            let scale: Float = (parametrization == .mup && cls == .hidden) ? hiddenLRMult / Float(sizes[l]) : 1
            return [ParameterSpec(name: "linear_\(l).w", shape: [sizes[l], sizes[l + 1]], layerClass: cls, updateScale: scale),
                    ParameterSpec(name: "linear_\(l).b", shape: [sizes[l + 1]], layerClass: .bias, updateScale: 1)]
        }
    }

    /// METHOD §3.2: truncated-normal weights (std 1/√fan_in, ±2σ, not rescaled); in μP a zero
    /// readout and N(0, 1) biases, in SP zero biases. Tensor i draws from `key.split(i)`.
    public func initialize(key: RNGKey) -> [Tensor] {
        parameterSpecs.enumerated().map { i, spec in
            var t = Tensor(zeros: spec.shape)
            let k = key.split(UInt64(i))
            switch (spec.layerClass, parametrization) {
            case (.output, .mup): break
            case (.bias, .mup): k.fillNormal(&t.data)
            case (.bias, .standard): break
            default: k.fillTruncatedNormal(&t.data, std: 1 / Float(spec.shape[0]).squareRoot())
            }
            return t
        }
    }
}
