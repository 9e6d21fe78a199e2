import CKernels
import Foundation
import Testing
import MuLOCore
@testable import MuLOTraining

/// The vectorised C kernels against their plain Swift references (llm.c style).
@Suite("transformer kernels")
struct TransformerKernelTests {
    static let inputs: [Float] = (0..<4001).map { -20 + Float($0) * 0.01 } + [-1e4, -90, -45, 45, 90, 1e4, 0, -0.0, 1e-30, -1e-30]

    @Test func geluMatchesTheReference() {
        var f = [Float](repeating: 0, count: Self.inputs.count)
        Self.inputs.withUnsafeBufferPointer { u in f.withUnsafeMutableBufferPointer { TransformerKernels.gelu(u.baseAddress!, $0.baseAddress!, count: u.count) } }
        for (x, y) in zip(Self.inputs, f) {
            let ref = TransformerKernels.referenceGelu(x)
            // A few ulps: the polynomial exp and the division each round.
            #expect(abs(y - ref) <= 5e-7 * max(1, abs(ref)), "gelu(\(x)) = \(y), reference \(ref)")
        }
    }

    @Test func geluDerivativeMatchesTheReference() {
        var d = [Float](repeating: 1, count: Self.inputs.count)
        Self.inputs.withUnsafeBufferPointer { u in d.withUnsafeMutableBufferPointer { TransformerKernels.geluBackward($0.baseAddress!, u: u.baseAddress!, count: u.count) } }
        for (x, y) in zip(Self.inputs, d) {
            let ref = TransformerKernels.referenceGeluDerivative(x)
            #expect(abs(y - ref) <= 1e-6 * max(1, abs(ref)), "gelu′(\(x)) = \(y), reference \(ref)")
        }
    }

    /// The C dropout mask is the Swift generator's, bit for bit: across chunk and lane-block
    /// boundaries (a count that is neither a multiple of 64 nor of the parallel chunk) and where
    /// the counter's high word changes (indices around 2³²).
    @Test func dropoutMaskIsTheReferenceGeneratorsBitForBit() {
        let key = RNGKey(seed: 7).split(11), rate: Float = 0.1, count = 70_001
        var mask = [Float](repeating: -1, count: count)
        mask.withUnsafeMutableBufferPointer { TransformerKernels.dropoutMask($0.baseAddress!, count: count, rate: rate, key: key) }
        let reference = TransformerKernels.referenceDropoutMask(count: count, rate: rate, key: key)
        #expect(mask == reference)
        // A rate of 0.1 drops about a tenth (binomial s.d. ~0.0011 here): a mask of all keeps or a
        // constant stream would fail.
        let dropped = Double(mask.filter { $0 == 0 }.count) / Double(count)
        #expect(abs(dropped - 0.1) < 0.006)
        let first: UInt64 = (1 << 32) - 37, n = 101
        var high = [Float](repeating: -1, count: n)
        high.withUnsafeMutableBufferPointer {
            mulo_dropout_mask($0.baseAddress!, first, n, key.k0, key.k1, RNGKey.uniformCounterTag, 0.5, 2)
        }
        #expect(high == (0..<UInt64(n)).map { key.uniform(at: first + $0) >= 0.5 ? 2 : 0 })
    }
}
