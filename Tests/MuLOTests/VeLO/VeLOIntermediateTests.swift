import Foundation
import Testing
@testable import MuLO
@testable import MuLOTraining

/// Step 0 of every golden case, stage by stage (VELO §7.1 items 1–5): the loss features, the 30
/// LSTM inputs of every tensor, the controls and the lr multipliers.
@Suite("VeLO step-0 intermediates")
struct VeLOIntermediateTests {
    @Test(arguments: ["velo", "velo_l32_p16", "muvelo", "muvelo_late"])
    func stepZeroStages(name: String) throws {
        let file = try HDF5File.open(VeLOTests.goldenPath)
        let g = "cases/\(name)", d = "\(g)/steps/0/debug"
        let p = try file.attributeString("parametrization", on: g) == "mu" ? Parametrization.mup : .standard
        let config = VeLOConfig(parametrization: p, lstmHidden: try file.attributeInt("lstm_hidden_size", on: g),
                                paramInits: try file.attributeInt("param_inits", on: g),
                                interpMult: Float(try file.attributeDouble("interp_mult", on: g)),
                                paramScaleMult: try file.attributeInt("param_scale_mult", on: g) != 0, referenceNonFinite: true)
        let theta = MetaParameters(try zip(config.thetaNames, config.thetaShapes).map { try file.readTensor("\(g)/theta/\($0)", expectShape: $1) })
        let lo = VeLOOptimizer(config: config, theta: theta)
        let names = try file.attributeStrings("param_names", on: g)
        let params = try names.map { try file.readTensor("\(g)/init/\($0)") }
        var state = try ReferenceChecker.readVeLOState(file, group: "\(g)/init_state", names: names, shapes: params.map(\.shape), optimizer: lo)
        state.lossBuffer.update(loss: try file.readScalar("\(g)/steps/0/loss", as: Float.self), propagateNonFinite: true)
        let loss = state.lossBuffer.features
        Self.close("loss features", loss, try file.readTensor("\(d)/loss_features").data)
        let tau = Float(state.iteration) / Float(state.numSteps)
        let x = params.indices.map { lo.tensorFeatures(params[$0], state: state.tensors[$0], tau: tau, loss: loss) }
        Self.close("LSTM inputs", x.flatMap { $0 }, try file.readTensor("\(d)/lstm_input").data)
        let (controls, alpha) = lo.perTensorNetwork(x, state: &state)
        Self.close("controls", controls.flatMap { $0 }, try file.readTensor("\(d)/controls").data, tolerance: 1e-5)
        Self.close("lr multipliers", alpha, try file.readTensor("\(d)/lr_mult").data, tolerance: 1e-5)
    }

    /// Within `tolerance`·max(1, |reference|).
    static func close(_ what: String, _ ours: [Float], _ reference: [Float], tolerance: Float = 1e-6) {
        #expect(ours.count == reference.count, "\(what): \(ours.count) values, reference \(reference.count)")
        let worst = zip(ours, reference).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
        #expect(worst <= tolerance, "\(what): worst error \(worst)")
    }
}
