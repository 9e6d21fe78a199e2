import Foundation

/// The fixed (not meta-learned) settings of a small_fc_lopt learned optimizer.
public struct LOConfig: Sendable, Equatable, Codable {
    public var parametrization: Parametrization
    /// λ1: 0.01 for μLOs, 0.001 for SP LOs (METHOD §2.7).
    public var stepMult: Float
    /// λ2 = 0.001.
    public var expMult: Float
    public var hiddenSize: Int
    public var baseMomentumDecays: [Float]
    public var baseRMSDecays: [Float]
    public var baseAdafactorDecays: [Float]

    public init(parametrization: Parametrization, stepMult: Float? = nil, expMult: Float = 0.001, hiddenSize: Int = 32,
                baseMomentumDecays: [Float] = [0.9, 0.99, 0.999], baseRMSDecays: [Float] = [0.999],
                baseAdafactorDecays: [Float] = [0.9, 0.99, 0.999]) {
        self.parametrization = parametrization
        self.stepMult = stepMult ?? Self.defaultStepMult(parametrization)
        self.expMult = expMult
        self.hiddenSize = hiddenSize
        self.baseMomentumDecays = baseMomentumDecays
        self.baseRMSDecays = baseRMSDecays
        self.baseAdafactorDecays = baseAdafactorDecays
    }

    /// λ1 by parametrization (METHOD §2.7): 0.01 for μLOs, 0.001 for SP LOs.
    public static func defaultStepMult(_ p: Parametrization) -> Float { p == .mup ? 0.01 : 0.001 }

    public static let mu = LOConfig(parametrization: .mup)
    public static let sp = LOConfig(parametrization: .standard)
}

/// Effective decays β = 1 − exp(10·(ln(1 − β0)/10 + θ_d)), in float32 in the reference's order
/// of operations (METHOD §2.1); rms and Adafactor decays are clipped to [0, 1].
extension LOConfig {
    /// The configuration a θ file or an import may carry: hidden size 1…4096, three, one and
    /// three base decays in (0, 1), step_mult finite and > 0, exp_mult finite.
    public func validate() throws {
        guard (1...4096).contains(hiddenSize), baseMomentumDecays.count == 3, baseRMSDecays.count == 1, baseAdafactorDecays.count == 3 else {
            throw LOError("θ's configuration is invalid: hidden_size \(hiddenSize) (1…4096) or decay counts")
        }
        let bases = baseMomentumDecays + baseRMSDecays + baseAdafactorDecays
        guard bases.allSatisfy({ $0 > 0 && $0 < 1 }) else { throw LOError("θ's base decays \(bases) must lie in (0, 1)") }
        guard stepMult.isFinite, stepMult > 0, expMult.isFinite else {
            throw LOError("θ's step_mult \(stepMult) must be finite and > 0, exp_mult \(expMult) finite")
        }
    }
}

public struct LODecays: Sendable, Equatable {
    public var momentum: [Float]
    public var rms: Float
    public var adafactor: [Float]

    public init(momentum: [Float], rms: Float, adafactor: [Float]) {
        (self.momentum, self.rms, self.adafactor) = (momentum, rms, adafactor)
    }

    public init(theta: LOTheta, config: LOConfig) {
        func decay(_ base: Float, _ offset: Float) -> Float {
            let x = Foundation.log(1 - base) / 10 + offset
            return 1 - Foundation.exp(x * 10)
        }
        momentum = zip(config.baseMomentumDecays, theta.momentumDecays.data).map(decay)
        rms = min(max(decay(config.baseRMSDecays[0], theta.rmsDecays.data[0]), 0), 1)
        adafactor = zip(config.baseAdafactorDecays, theta.adafactorDecays.data).map { min(max(decay($0, $1), 0), 1) }
    }
}

/// The 11 time features tanh(t/x − 1) (METHOD §2.4), from the global step counter.
public func timeFeatures(step t: Int32) -> [Float] {
    let scales: [Float] = [1, 3, 10, 30, 100, 300, 1000, 3000, 10_000, 30_000, 100_000]
    return scales.map { Foundation.tanh(Float(t) / $0 - 1) }
}
