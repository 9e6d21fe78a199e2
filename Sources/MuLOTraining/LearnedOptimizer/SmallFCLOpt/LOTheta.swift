/// The meta-parameters θ of small_fc_lopt (METHOD §2.1): the MLP 39 → H → H → 2 plus seven
/// decay offsets; 2,409 float32 values at H = 32. Weights are [in, out].
public struct LOTheta: Sendable, Equatable {
    public var w0: Tensor, b0: Tensor, w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor
    public var momentumDecays: Tensor, rmsDecays: Tensor, adafactorDecays: Tensor

    public static let inputSize = 39

    public var hiddenSize: Int { b0.count }

    /// The reference pytree names (METHOD §7.1), in MuLO's canonical order.
    public static let names = ["momentum_decays", "rms_decays", "adafactor_decays",
                               "nn/~/w0", "nn/~/b0", "nn/~/w1", "nn/~/b1", "nn/~/w2", "nn/~/b2"]

    public static func shapes(hidden h: Int) -> [[Int]] {
        [[3], [1], [3], [inputSize, h], [h], [h, h], [h], [h, 2], [2]]
    }

    /// The tensors in `names` order.
    public var tensors: [Tensor] {
        get { [momentumDecays, rmsDecays, adafactorDecays, w0, b0, w1, b1, w2, b2] }
        set {
            precondition(newValue.count == 9)
            (momentumDecays, rmsDecays, adafactorDecays) = (newValue[0], newValue[1], newValue[2])
            (w0, b0, w1, b1, w2, b2) = (newValue[3], newValue[4], newValue[5], newValue[6], newValue[7], newValue[8])
        }
    }

    public init(tensors: [Tensor]) throws {
        guard tensors.count == 9 else { throw LOError("θ needs 9 tensors, got \(tensors.count)") }
        let h = tensors[4].count
        for (i, (t, s)) in zip(tensors, Self.shapes(hidden: h)).enumerated() where t.shape != s {
            throw LOError("θ tensor \(Self.names[i]) has shape \(t.shape), expected \(s) (hidden size \(h))")
        }
        (momentumDecays, rmsDecays, adafactorDecays) = (tensors[0], tensors[1], tensors[2])
        (w0, b0, w1, b1, w2, b2) = (tensors[3], tensors[4], tensors[5], tensors[6], tensors[7], tensors[8])
    }

    /// METHOD §2.6: each w_i truncated normal with std 1/√fan_in at ±2σ (not rescaled);
    /// biases and decay offsets 0. w_i draws from `key.split(i)`.
    public static func initial(key: RNGKey, hidden: Int = 32) -> LOTheta {
        let shapes = Self.shapes(hidden: hidden)
        var ts = shapes.map { Tensor(zeros: $0) }
        for (i, t) in [3, 5, 7].enumerated() {
            key.split(UInt64(i)).fillTruncatedNormal(&ts[t].data, std: 1 / Float(shapes[t][0]).squareRoot())
        }
        return try! LOTheta(tensors: ts)
    }

    /// θ in the generic form meta-training and θ files use.
    public var parameters: MetaParameters { MetaParameters(tensors) }

    public init(_ parameters: MetaParameters) throws { try self.init(tensors: parameters.tensors) }

    public var count: Int { parameters.count }
    public var fingerprint: String { parameters.fingerprint }

    /// All values concatenated in `names` order: the vector ES perturbs.
    public var flat: [Float] {
        get { parameters.flat }
        set {
            var p = parameters
            p.flat = newValue
            tensors = p.tensors
        }
    }
}
