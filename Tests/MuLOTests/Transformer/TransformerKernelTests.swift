import Foundation
import Testing
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
}
