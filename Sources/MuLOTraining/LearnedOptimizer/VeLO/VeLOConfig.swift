import Foundation

/// VeLO (`HyperV2`) and μVeLO (`MuHyperV2`) as VELO.md specifies them: the fixed configuration
/// and θ's 33 leaves in the reference's JAX flattening order, dead ones included (§4.1).
public struct VeLOConfig: Sendable, Equatable, Codable {
    /// SP: VeLO (no s_W). μP: μVeLO (the task's s_W multiplies every step).
    public var parametrization: Parametrization
    /// H, the LSTM size.
    public var lstmHidden: Int
    /// P, the number of per-parameter MLPs in the bank.
    public var paramInits: Int
    /// The bank mean's factor: 100 for VeLO (hard-coded there), 1 for μVeLO.
    public var interpMult: Float
    /// Multiply each step by RMS(p) (VeLO: on; μVeLO: off).
    public var paramScaleMult: Bool
    public var stepMult: Float = 0.001
    public var expMult: Float = 0.001
    /// The classes' default loss buffer built for T = 10 whatever the run length (§1.3); off in both presets.
    public var buggedLossFeatures: Bool = false
    /// The reference's handling of non-finite inputs (no `nan_to_num`: one NaN gradient entry turns
    /// every tensor NaN through the max over tensors; a non-finite loss poisons the loss buffer).
    /// Off by default: MuLO treats gradients as small_fc_lopt does (`GradientGuard`: NaN → 0, then
    /// the ±1000 clip) and a non-finite loss as the largest loss the buffer accepts (2·|largest
    /// mean|; 0 on the first step), so parameters and the LSTM state stay finite.
    public var referenceNonFinite: Bool = false
    /// θ's start, where it departs from the reference init (only meta-training's start depends on
    /// it, so θ files do not store it). The reference init leaves the controls Q ≈ ±0.1 and the
    /// lr multipliers α ≈ ±0.5, so at μVeLO's interp 1 the interpolated MLP is ~(Q/√P)³ of a bank
    /// member and the first steps are ~1e-6 of a parameter: nothing moves, PES sees (almost) no
    /// signal, and the demo's meta-loss stays at ln 10 (measured: 2.30 → 2.28 in 150 outer
    /// steps, even with α = 100). Starting the controls' bias at 1 (Q ≈ 1: the bank's mean) and
    /// the step-size bias at a positive α gives steps PES can shape (2.30 → 1.68).
    /// `bankInitGain` multiplies the MLP bank's values, `initControls` is `rnn_to_controls/b`,
    /// `initLRMult` is `step_size/b` (all three 1, 0, 0 in the reference).
    ///
    /// Even then the random bank's direction d is mostly a constant of the always-positive features
    /// (rsqrt of the accumulators, their rows and columns), not of the gradient: on the μVeLO_M
    /// tasks every parameter drifts one way, the ReLUs die and the loss sits at ln 10 (measured:
    /// w128 d3, 300 steps, α 30…3000), so PES at that scale sees no signal either. `descentBank`
    /// adds to every bank member a hand-set path that makes the mixed MLP (at controls 1) output
    /// the normalised Adam direction d = m(β 0.9)·rsqrt(v) (feature 7), so the initial optimizer
    /// is μAdam-like with learning rate α·step_mult and meta-training starts from descent.
    public var bankInitGain: Float = 1
    public var descentBank: Bool = false
    public var initControls: Float = 0
    public var initLRMult: Float = 0

    public init(parametrization: Parametrization, lstmHidden: Int, paramInits: Int, interpMult: Float, paramScaleMult: Bool,
                stepMult: Float = 0.001, expMult: Float = 0.001, buggedLossFeatures: Bool = false, referenceNonFinite: Bool = false) {
        (self.parametrization, self.lstmHidden, self.paramInits) = (parametrization, lstmHidden, paramInits)
        (self.interpMult, self.paramScaleMult, self.stepMult, self.expMult) = (interpMult, paramScaleMult, stepMult, expMult)
        self.buggedLossFeatures = buggedLossFeatures
        self.referenceNonFinite = referenceNonFinite
    }

    /// The μLO paper's μVeLO (`mu_hyper_l-16_h-4_pi-8.py`): H 16, P 8, interp 1, no RMS(p).
    public static let muVeLO = VeLOConfig(parametrization: .mup, lstmHidden: 16, paramInits: 8, interpMult: 1, paramScaleMult: false)
    /// VeLO-4000's shape: H 512, P 256, interp 100, RMS(p).
    public static let velo4000 = VeLOConfig(parametrization: .standard, lstmHidden: 512, paramInits: 256, interpMult: 100,
                                            paramScaleMult: true)

    /// F, the per-parameter MLP's hidden width (two hidden layers), and its 30 inputs.
    public static let ffHidden = 4, features = 30
    /// Widths of the first layer's 14 weight groups `w0__0 … w0__13` (numeric order).
    public static let groupWidths = [1, 1, 1, 3, 1, 3, 1, 3, 1, 3, 3, 3, 3, 3]
    /// The groups in θ's (lexicographic) order.
    public static let groupOrder = [0, 1, 10, 11, 12, 13, 2, 3, 4, 5, 6, 7, 8, 9]

    /// θ's leaves: the bank (b0, b1, b2, the 14 w0 groups, w1, w2), the LSTM's initial state, the
    /// three mixing layers (`linear` is dead), the LSTM gates and the two heads.
    public var thetaNames: [String] {
        ["b0", "b1", "b2"].map { "ff_mod_stack/~/\($0)" } + Self.groupOrder.map { "ff_mod_stack/~/w0__\($0)" }
            + ["ff_mod_stack/~/w1", "ff_mod_stack/~/w2", "lstm_init_state/hidden", "lstm_init_state/cell"]
            + ["linear", "linear_1", "linear_2", "rnn/linear", "rnn_to_controls", "step_size"].flatMap { ["rnn_params/\($0)/b", "rnn_params/\($0)/w"] }
    }

    public var thetaShapes: [[Int]] {
        let (H, P, F) = (lstmHidden, paramInits, Self.ffHidden)
        return [[P, F], [P, F], [P, 3]] + Self.groupOrder.map { [P, Self.groupWidths[$0], F] } + [[P, F, F], [P, F, 3], [1, H], [1, H]]
            + [[H], [30, H], [H], [30, H], [H], [30, H], [4 * H], [2 * H, 4 * H], [P], [H, P], [1], [H, 1]]
    }

    /// Positions in θ.
    public enum Leaf {
        public static let b0 = 0, b1 = 1, b2 = 2, w1 = 17, w2 = 18, initHidden = 19, initCell = 20
        /// The dead mixing layer `linear` (kept: PES perturbs it too).
        public static let deadb = 21, deadw = 22
        public static let mix1b = 23, mix1w = 24, mix2b = 25, mix2w = 26, lstmb = 27, lstmw = 28
        public static let controlsb = 29, controlsw = 30, stepb = 31, stepw = 32
        /// θ index of first-layer group g (numeric).
        public static func w0(_ g: Int) -> Int { 3 + VeLOConfig.groupOrder.firstIndex(of: g)! }
    }

    /// The reference init (§4.1): zero biases and initial state, TN(1/√fan_in) weights, the 14
    /// groups at the whole layer's 1/√30 — with the departures above when they are set.
    public func initialTheta(key: RNGKey) -> MetaParameters {
        let (H, F) = (Float(lstmHidden), Float(Self.ffHidden))
        let scales: [Float] = [0, 0, 0] + Array(repeating: 1 / Float(30).squareRoot(), count: 14) + [1 / F.squareRoot(), 1 / F.squareRoot(), 0, 0]
            + [0, 1 / Float(30).squareRoot(), 0, 1 / Float(30).squareRoot(), 0, 1 / Float(30).squareRoot(),
               0, 1 / (2 * H).squareRoot(), 0, 1 / H.squareRoot(), 0, 1 / H.squareRoot()]
        return MetaParameters(zip(thetaShapes, scales).enumerated().map { k, pair in
            var t = Tensor(zeros: pair.0)
            // The bank's leaves come first (b0 … w2); only they take the gain.
            if pair.1 > 0 { key.split(UInt64(k)).fillTruncatedNormal(&t.data, std: pair.1 * (k <= Leaf.w2 ? bankInitGain : 1)) }
            if k == Leaf.controlsb { t.data = t.data.map { _ in initControls } }
            if k == Leaf.stepb { t.data = [initLRMult] }
            if descentBank { addDescentPath(&t, leaf: k) }
            // Q = h·w + b: the head's random weights would scale each layer of the path by a
            // different Q, and d by Q³ (SP's Q 0.1 ± 0.2 diverged within 40 steps); start at Q = b.
            if descentBank && k == Leaf.controlsw { t.data = t.data.map { _ in 0 } }
            return t
        })
    }

    /// The feature the descent path passes through: m(β 0.9)·rsqrt(v), row 0 of group 5.
    static let descentFeature = (group: 5, row: 0)

    /// Hidden units 0 and 1 carry relu(x) and relu(−x) of the descent feature through both layers
    /// and the direction output takes their difference, so d = x exactly. Each layer's weights are
    /// divided by interp_mult·Q (Q = `initControls`): interpolation multiplies them back. Where the
    /// product lives matters to PES, whose σ is absolute: VeLO's interp 100 with Q 1 would leave
    /// the bank at 0.01 and σ = 0.01 noise would swamp it (22% of SP inner losses at the bound from
    /// the first outer steps), so SP starts with Q 0.1 and bank entries 0.1.
    func addDescentPath(_ t: inout Tensor, leaf k: Int) {
        let (P, F, s) = (paramInits, Self.ffHidden, 1 / (interpMult * initControls))
        let g = Self.descentFeature
        for p in 0..<P {
            switch k {
            case Leaf.w0(g.group):
                let base = (p * Self.groupWidths[g.group] + g.row) * F
                t.data[base] += s; t.data[base + 1] -= s
            case Leaf.w1:
                t.data[p * F * F] += s; t.data[p * F * F + F + 1] += s
            case Leaf.w2:
                t.data[p * F * 3] += s; t.data[p * F * 3 + 3] -= s
            default: return
            }
        }
    }

    public func validate() throws {
        guard lstmHidden >= 1, lstmHidden <= 4096, paramInits >= 1, paramInits <= 4096 else {
            throw LOError("VeLO sizes: lstm_hidden_size \(lstmHidden) and param_inits \(paramInits) must lie in 1…4096")
        }
        guard [interpMult, stepMult, expMult, bankInitGain, initControls, initLRMult].allSatisfy(\.isFinite), stepMult > 0 else {
            throw LOError("VeLO: interp_mult, step_mult, exp_mult, bank_init_gain, init_controls and init_lr_mult must be finite, step_mult > 0")
        }
        guard !descentBank || (initControls > 0 && interpMult > 0) else {
            throw LOError("VeLO: descent_bank needs init_controls > 0 and interp_mult > 0 (the bank's path is scaled by 1/(interp_mult·init_controls))")
        }
    }
}
