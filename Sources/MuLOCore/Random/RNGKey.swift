import Foundation

/// A splittable random key in the style of JAX's PRNG keys: `split` derives independent
/// streams, and every sample is a pure function of (key, index), so results are identical
/// for any thread count and any order of drawing.
public struct RNGKey: Sendable, Hashable, Codable {
    public let k0: UInt32
    public let k1: UInt32

    public init(k0: UInt32, k1: UInt32) {
        self.k0 = k0
        self.k1 = k1
    }

    /// A key from a user seed; SplitMix64 spreads small seeds over all 64 key bits.
    public init(seed: UInt64) {
        var z = seed &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        self.init(k0: UInt32(truncatingIfNeeded: z), k1: UInt32(truncatingIfNeeded: z >> 32))
    }

    /// An independent key for sub-stream `stream`. Domain tag 0xFFFF_FFFF in the counter keeps
    /// key derivation apart from sampling, which uses small tags.
    public func split(_ stream: UInt64) -> RNGKey {
        let out = bits(index: stream, tag: 0xFFFF_FFFF)
        return RNGKey(k0: out.0 ^ out.2, k1: out.1 ^ out.3)
    }

    @inlinable
    func bits(index: UInt64, tag: UInt32, attempt: UInt32 = 0) -> (UInt32, UInt32, UInt32, UInt32) {
        Philox4x32.block(key: (k0, k1),
                         counter: (UInt32(truncatingIfNeeded: index),
                                   UInt32(truncatingIfNeeded: index >> 32), attempt, tag))
    }
}

// Sample tags: each distribution reads its own part of the counter space.
@usableFromInline let uniformTag: UInt32 = 1
@usableFromInline let normalTag: UInt32 = 2
@usableFromInline let integerTag: UInt32 = 3

@inlinable
func unitDouble(_ hi: UInt32, _ lo: UInt32) -> Double {
    // 53 random bits → [0, 1).
    let bits = (UInt64(hi) << 21) ^ (UInt64(lo) >> 11)
    return Double(bits & ((1 << 53) - 1)) * 0x1p-53
}

extension RNGKey {
    /// The counter tag of `uniform(at:)`, for kernels that draw the same numbers outside Swift.
    public static let uniformCounterTag = uniformTag

    /// Uniform in [0, 1) with 24 random bits (every float32 step at the top of the range).
    @inlinable
    public func uniform(at index: UInt64) -> Float {
        Float(bits(index: index, tag: uniformTag).0 >> 8) * 0x1p-24
    }

    /// Uniform in [0, 1) as a double with 53 random bits.
    @inlinable
    public func uniformDouble(at index: UInt64) -> Double {
        let b = bits(index: index, tag: uniformTag)
        return unitDouble(b.0, b.1)
    }

    /// Standard normal by Box–Muller in float64; `attempt` selects a fresh draw for the same index.
    @inlinable
    public func normal(at index: UInt64, attempt: UInt32 = 0) -> Double {
        let b = bits(index: index, tag: normalTag, attempt: attempt)
        let u1 = 1 - unitDouble(b.0, b.1)  // (0, 1]: log is finite
        let u2 = unitDouble(b.2, b.3)
        return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
    }

    /// Standard normal conditioned on |z| ≤ bound, by rejection with per-index attempts, so
    /// index i's value is fixed whatever else is drawn. Not rescaled: its std is below 1
    /// (0.8796 for bound 2), as in JAX's `truncated_normal`.
    @inlinable
    public func truncatedNormal(at index: UInt64, bound: Double = 2) -> Double {
        var attempt: UInt32 = 0
        while true {
            let z = normal(at: index, attempt: attempt)
            if abs(z) <= bound { return z }
            attempt &+= 1
        }
    }

    /// Uniform integer in 0..<n (n > 0), unbiased by rejection.
    @inlinable
    public func integer(below n: Int, at index: UInt64) -> Int {
        precondition(n > 0)
        let n64 = UInt64(n)
        let limit = UInt64.max - UInt64.max % n64
        var attempt: UInt32 = 0
        while true {
            let b = bits(index: index, tag: integerTag, attempt: attempt)
            let x = (UInt64(b.0) << 32) | UInt64(b.1)
            if x < limit { return Int(x % n64) }
            attempt &+= 1
        }
    }
}

extension RNGKey {
    /// Fills `out` with `mean + std·z`, z standard normal; element i uses index `offset + i`.
    public func fillNormal(_ out: inout [Float], mean: Float = 0, std: Float = 1, offset: UInt64 = 0) {
        fill(&out) { self.normal(at: offset + UInt64($0)) * Double(std) + Double(mean) }
    }

    /// Fills `out` with `std·z`, z truncated to ±bound (not rescaled).
    public func fillTruncatedNormal(_ out: inout [Float], std: Float, bound: Double = 2) {
        fill(&out) { self.truncatedNormal(at: UInt64($0), bound: bound) * Double(std) }
    }

    /// Fills `out` with uniforms in [low, high).
    public func fillUniform(_ out: inout [Float], low: Float = 0, high: Float = 1) {
        fill(&out) { Double(low) + Double(high - low) * self.uniformDouble(at: UInt64($0)) }
    }

    private func fill(_ out: inout [Float], _ value: @Sendable (Int) -> Double) {
        let n = out.count
        out.withUnsafeMutableBufferPointer { buf in
            let p = SendablePointer(buf.baseAddress!)
            Parallel.forEachChunk(n, minChunk: 1 << 14) { range in
                for i in range { p.base[i] = Float(value(i)) }
            }
        }
    }

    /// `count` distinct indices from 0..<n in a deterministic order (Floyd's algorithm).
    public func distinctIndices(_ count: Int, below n: Int) -> [Int] {
        precondition(count <= n, "cannot draw \(count) distinct indices from \(n)")
        var chosen = Set<Int>(minimumCapacity: count)
        var out = [Int]()
        out.reserveCapacity(count)
        for (slot, j) in ((n - count)..<n).enumerated() {
            let t = integer(below: j + 1, at: UInt64(slot))
            let pick = chosen.contains(t) ? j : t
            chosen.insert(pick)
            out.append(pick)
        }
        return out
    }
}
