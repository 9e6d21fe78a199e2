import Foundation

/// Elementwise kernels of the MLP step. Plain pointer loops: the compiler vectorizes them
/// (checked in `mulo bench inner`), and each is its own readable reference.
public enum MLPKernels {
    /// Every row of `z` [rows, cols] set to `scale·bias`: the prefill that lets one sgemm with
    /// beta = 1 compute `scale·(h·W + b)`.
    @inlinable
    public static func broadcastRows(_ z: UnsafeMutablePointer<Float>, rows: Int, cols: Int,
                                     bias: UnsafePointer<Float>, scale: Float) {
        for r in 0..<rows {
            let row = z + r * cols
            for c in 0..<cols { row[c] = scale * bias[c] }
        }
    }

    @inlinable
    public static func reluInPlace(_ x: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { x[i] = max(x[i], 0) }
    }

    /// dh ← dh where the ReLU output h is positive, else 0 (h > 0 ⇔ pre-activation > 0).
    @inlinable
    public static func reluBackward(_ dh: UnsafeMutablePointer<Float>, activations h: UnsafePointer<Float>, count: Int) {
        for i in 0..<count { dh[i] = h[i] > 0 ? dh[i] : 0 }
    }

    /// out[c] = scale·Σ_r x[r, c], summed row by row so the inner loop vectorizes.
    @inlinable
    public static func columnSums(_ x: UnsafePointer<Float>, rows: Int, cols: Int, scale: Float,
                                  into out: UnsafeMutablePointer<Float>) {
        for c in 0..<cols { out[c] = 0 }
        for r in 0..<rows {
            let row = x + r * cols
            for c in 0..<cols { out[c] += row[c] }
        }
        for c in 0..<cols { out[c] *= scale }
    }

    /// Mean softmax cross-entropy of `logits` [rows, classes]; writes d(loss)/d(logits) into
    /// `dlogits` when given, and counts correct argmax predictions.
    @inlinable
    public static func softmaxCrossEntropy(_ logits: UnsafePointer<Float>, labels: UnsafePointer<Int32>,
                                           rows: Int, classes: Int,
                                           dlogits: UnsafeMutablePointer<Float>?,
                                           countedIf ids: UnsafePointer<Int32>? = nil) -> (loss: Float, correct: Int) {
        var total: Double = 0
        var correct = 0
        // With `ids`, only rows whose id is not 0 (pad) count, and the mean is over them (TRANSFORMERS §2.3).
        let counted = ids.map { p in (0..<rows).reduce(0) { $0 + (p[$1] != 0 ? 1 : 0) } } ?? rows
        let invRows = 1 / Float(counted)
        for r in 0..<rows {
            if let ids, ids[r] == 0 {
                dlogits?.advanced(by: r * classes).update(repeating: 0, count: classes)
                continue
            }
            let z = logits + r * classes
            var zmax = z[0]
            var arg = 0
            for c in 1..<classes where z[c] > zmax {
                zmax = z[c]
                arg = c
            }
            var sum: Float = 0
            for c in 0..<classes { sum += exp(z[c] - zmax) }
            let label = Int(labels[r])
            if arg == label { correct += 1 }
            total += Double(log(sum) - (z[label] - zmax))
            if let d = dlogits {
                let row = d + r * classes
                let invSum = 1 / sum
                for c in 0..<classes { row[c] = exp(z[c] - zmax) * invSum * invRows }
                row[label] -= invRows
            }
        }
        return (Float(total / Double(counted)), correct)
    }
}

