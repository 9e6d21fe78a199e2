import Foundation
import Testing
@testable import MuLO

/// Finite-difference checks of hand-written backprop.
enum GradientCheck {
    /// Parameters plus N(0, 0.3²) noise, so that no tensor is constant (zero readouts, unit LayerNorm scales).
    static func perturbed(_ params: [Tensor]) -> [Tensor] {
        params.enumerated().map { k, t in
            var noise = [Float](repeating: 0, count: t.count)
            RNGKey(seed: 100 + UInt64(k)).fillNormal(&noise, std: 0.3)
            return Tensor(shape: t.shape, data: zip(t.data, noise).map { $0 + $1 })
        }
    }

    /// For every tensor, the central difference of `loss` along a random unit direction against
    /// the backprop gradient's projection on it.
    static func directional(_ params: [Tensor], names: [String], lossAndGradient: ([Tensor], inout [Tensor]) -> Float,
                            loss: ([Tensor]) -> Float) {
        var grads = params.map { Tensor(zeros: $0.shape) }
        _ = lossAndGradient(params, &grads)
        let eps: Float = 1e-2
        for k in params.indices {
            var v = [Float](repeating: 0, count: params[k].count)
            RNGKey(seed: 7 + UInt64(k)).fillNormal(&v)
            // A unit direction keeps the step ε small for every tensor size.
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            v = v.map { $0 / norm }
            var plus = params, minus = params
            for i in v.indices {
                plus[k].data[i] += eps * v[i]
                minus[k].data[i] -= eps * v[i]
            }
            let numeric = Double(loss(plus) - loss(minus)) / Double(2 * eps)
            let analytic = zip(grads[k].data, v).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            // Central differences in float32: truncation O(ε²) plus rounding ~1e-7·loss/ε.
            #expect(abs(numeric - analytic) <= 1e-4 + 1e-2 * abs(analytic),
                    "\(names[k]): finite difference \(numeric), backprop \(analytic)")
        }
    }
}

/// A port's initialisation against the reference's own statistics (`init_stats/<model>` of
/// transformer_tasks.h5): shapes exactly; mean and std within four standard errors.
enum InitStatistics {
    static func compare(_ file: HDF5File, group g: String, specs: [ParameterSpec], params: [Tensor]) {
        for (spec, t) in zip(specs, params) {
            do {
                let refStd = Double(try file.readScalar("\(g)/std/\(spec.name)", as: Float.self))
                let refMean = Double(try file.readScalar("\(g)/mean/\(spec.name)", as: Float.self))
                #expect(try file.read("\(g)/shape/\(spec.name)", as: Int64.self).values.map(Int.init) == spec.shape, "\(spec.name)")
                let n = Double(t.count)
                let mean = t.data.reduce(0.0) { $0 + Double($1) } / n
                let std = (t.data.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n).squareRoot()
                // Both are samples: the difference of two sample stds has standard error ≈ σ/√n.
                #expect(abs(std - refStd) <= 4 * max(std, refStd) / n.squareRoot() + 1e-7, "\(spec.name): std \(std), reference \(refStd)")
                #expect(abs(mean - refMean) <= 4 * max(refStd, std) / n.squareRoot() + 1e-7, "\(spec.name): mean \(mean), reference \(refMean)")
            } catch {
                Issue.record("\(spec.name): \(error)")
            }
        }
    }
}

/// A model's loss and gradients are the same bits on 1 and 2 threads (dropout masks included).
enum ThreadIndependence {
    static func check<M: TaskModel>(_ model: M, params: [Tensor], batch: Batch) {
        let saved = (Parallel.workers, BLAS.threads)
        defer { Parallel.workers = saved.0; BLAS.setThreads(saved.1) }
        var results: [(Float, [Tensor])] = []
        for threads in [1, 2] {
            Parallel.workers = threads
            BLAS.setThreads(threads)
            var grads = params.map { Tensor(zeros: $0.shape) }
            let loss = model.lossAndGradient(params, batch: batch, grads: &grads, workspace: model.makeWorkspace(batchSize: batch.size))
            results.append((loss, grads))
        }
        #expect(results[0].0 == results[1].0 && results[0].1 == results[1].1)
    }
}
