import Foundation
@testable import MuLO

/// A test-only learned optimizer: heavy-ball SGD whose log learning rate and momentum logit are
/// θ, p ← p − s_W·exp(θ_lr)·v with v ← σ(θ_m)·v + g. It exists to show that a new architecture
/// is one folder conforming to `LearnedOptimizerArchitecture`.
struct LearnedLearningRate: LearnedOptimizerArchitecture {
    static let name = "learned_lr"
    var parametrization: Parametrization { .mup }
    var thetaNames: [String] { ["log_lr", "momentum_logit"] }
    var thetaShapes: [[Int]] { [[1], [1]] }

    /// lr 0.05 and momentum σ(0) = 0.5, plus a little noise from the key.
    func initialTheta(key: RNGKey) -> MetaParameters {
        var noise: [Float] = [0, 0]
        key.fillNormal(&noise, std: 0.01)
        return MetaParameters([Tensor(shape: [1], data: [log(0.05) + noise[0]]), Tensor(shape: [1], data: [noise[1]])])
    }

    func makeOptimizer(theta: MetaParameters) -> Inner {
        Inner(lr: exp(theta.tensors[0].data[0]), momentum: 1 / (1 + exp(-theta.tensors[1].data[0])))
    }

    func writeConfig(to file: HDF5File, on group: String) throws { try file.setAttribute("parametrization", "mu", on: group) }
    static func readConfig(from file: HDF5File, on group: String) throws -> LearnedLearningRate {
        guard try file.attributeString("parametrization", on: group) == "mu" else { throw LOError("learned_lr is μP only") }
        return LearnedLearningRate()
    }
    var settingsDescription: [String: String] { ["parametrization": "mu"] }
    /// v ← m·v + g, p ← p − (s_W·lr)·v.
    var flopsPerParameter: Double { 4 }

    struct State: LearnedOptimizerState {
        var step = 0
        var velocity: [[Float]]
        var shapes: [[Int]]

        var counters: [(name: String, value: Int)] { [("step", step)] }
        mutating func setCounters(_ values: [Int]) throws { step = values[0] }
        func arrays(tensor k: Int) -> [StateArray] { [StateArray(name: "velocity", shape: shapes[k], values: velocity[k])] }
        mutating func setArrays(tensor k: Int, _ values: [[Float]]) throws { velocity[k] = values[0] }
    }

    struct Inner: Optimizer {
        let lr: Float, momentum: Float
        var name: String { "learned_lr" }

        func initialState(for params: [Tensor]) -> State {
            State(velocity: params.map { [Float](repeating: 0, count: $0.count) }, shapes: params.map(\.shape))
        }

        func update(_ params: inout [Tensor], grads: [Tensor], scales: [Float], state: inout State, context: StepContext) {
            for k in params.indices {
                for i in params[k].data.indices {
                    state.velocity[k][i] = momentum * state.velocity[k][i] + grads[k].data[i]
                    params[k].data[i] -= scales[k] * lr * state.velocity[k][i]
                }
            }
            state.step += 1
        }
    }
}
