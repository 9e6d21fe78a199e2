import Foundation

extension MetaConfig {
    /// The fields that define the experiment: a checkpoint is only resumed under the same ones
    /// (outer steps and checkpointing may change between runs). Its text is frozen — the flat
    /// camelCase JSON of the first release — so checkpoints of every release compare equal to
    /// the same experiment however the configuration type is arranged in code.
    public var identity: String {
        let lo = learnedOptimizer, es = estimator, oo = outerOptimizer
        var fields = IdentityFields(
            name: name, seed: seed, outerSteps: 0, families: families,
            parametrization: lo.parametrization, stepMult: lo.stepMult, expMult: lo.expMult, hiddenSize: lo.hiddenSize,
            initSeed: lo.initSeed, initCheckpoint: lo.initCheckpoint,
            estimator: es.kind, pairs: es.pairs, sigma: es.sigma, truncation: es.truncation, episodeMin: es.episodeMin,
            episodeMax: es.episodeMax, initialOffsetMax: es.initialOffsetMax,
            beta1: oo.beta1, beta2: oo.beta2, epsilon: oo.epsilon, weightDecay: oo.weightDecay, updateClip: oo.updateClip,
            lrInitial: oo.lrInitial, lrPeak: oo.lrPeak, lrFinal: oo.lrFinal, warmupSteps: oo.warmupSteps, decayEnd: oo.decayEnd,
            checkpointInterval: 0, keepCheckpoints: 0)
        // Architectures after the first add their fields; small_fc_lopt's text stays the first release's.
        if lo.architecture != SmallFCLOpt.name {
            let v = lo.veloConfig
            (fields.architecture, fields.lstmHidden, fields.paramInits) = (lo.architecture, v.lstmHidden, v.paramInits)
            (fields.interpMult, fields.paramScaleMult, fields.bankInitGain) = (v.interpMult, v.paramScaleMult, v.bankInitGain)
            // Absent (nil) at the reference values, so identities from before these keys are unchanged.
            (fields.initControls, fields.initLRMult) = (v.initControls == 0 ? nil : v.initControls, v.initLRMult == 0 ? nil : v.initLRMult)
            fields.descentBank = v.descentBank ? true : nil
        }
        return String(decoding: try! JSONEncoder.sorted.encode(fields), as: UTF8.self)
    }
}

/// The first release's flat configuration layout, kept only to spell `identity`. Families encode
/// with their camelCase keys too (`batchSize`), as they did then.
private struct IdentityFields: Encodable {
    let name: String, seed: UInt64, outerSteps: Int, families: [MetaConfig.Family]
    let parametrization: Parametrization, stepMult: Float, expMult: Float, hiddenSize: Int, initSeed: UInt64
    let initCheckpoint: String?
    let estimator: MetaConfig.Estimator, pairs: Int, sigma: Float, truncation: Int, episodeMin: Int, episodeMax: Int
    let initialOffsetMax: Int
    let beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float, updateClip: Float
    let lrInitial: Float, lrPeak: Float, lrFinal: Float, warmupSteps: Int, decayEnd: Int
    let checkpointInterval: Int, keepCheckpoints: Int
    var architecture: String?, lstmHidden: Int?, paramInits: Int?, interpMult: Float?, paramScaleMult: Bool?, bankInitGain: Float?
    var initControls: Float?, initLRMult: Float?, descentBank: Bool?
}
